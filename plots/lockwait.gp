# lockwait.gp -- where CPUs wait for locks: for each facet, one horizontal
# bar per strategy, stacked by lock class, at the largest CPU count.
# caption: Time spent waiting for locks, as a share of all CPU time, per mix and strategy at the largest CPU count, stacked by lock class.
# order: 70
# Each panel has its own x scale (the total is printed at each bar's end);
# a mix where no CPU waited is listed instead of drawn, and a run where none
# did says "no lock wait".  Reads lockwait.csv (..., class, algorithm,
# wait_share, contentions, acquisitions).  Writes lockwait.png and .svg.
load "common.gnuplot"
NAME = "lockwait"
TITLE = "Lock wait by class" . VCLK
HAVE = rows("lockwait.csv") > 0 && NFACET > 0
C = HAVE ? int(system("awk -F, 'NR>1 && $3+0>m{m=$3+0} END{print m+0}' lockwait.csv")) : 0
# the classes with any wait at C, in file order
CLASSES = !HAVE ? "" : system(sprintf("awk -F, -v c=%d 'NR>1 && $3==c && $7>0 && !($5 in s){s[$5]; printf \"%%s \", $5}' lockwait.csv", C))
NCL = words(CLASSES)
# the facets at C with any wait, and those without (or without any lock)
FW = !HAVE ? "" : system(pre("lockwait.csv")." | awk -F, -v c=".C." '$5==c{s[$1]; if($9>0)w[$1]} " \
    ."END{for(f in s) print f, (f in w)}' | sort -n | awk '$2{printf \"%s \", $1}'")
F0 = !HAVE ? "" : system("{ ".pre("summary.csv")." | awk -F, -v OFS=, -v c=".C." '$5==c{print \"s\", $1}'; " \
    .pre("lockwait.csv")." | awk -F, -v OFS=, -v c=".C." '$5==c && $9>0{print \"w\", $1}'; } " \
    ."| awk -F, '$1==\"s\"{s[$2]} $1==\"w\"{w[$2]} END{for(f in s) if(!(f in w)) print f}' | sort -n | tr '\\n' ' '")
NP = words(FW)
# of those, the facets that recorded no lockstat (locks.lockstat or
# stats.enabled off): not recorded, which is not "no wait"
FU = !HAVE ? "" : UNREC(6, C)
NOWAIT = ""
NOREC6 = ""
do for [i=1:words(F0)] {
    f0 = word(F0, i)
    if (strstrt(" ".FU, " ".f0." ") > 0) { NOREC6 = NOREC6.(NOREC6 eq "" ? "" : "; ").fname(int(f0)) } \
    else { NOWAIT = NOWAIT.(NOWAIT eq "" ? "" : "; ").fname(int(f0)) }
}
# bars(f): facet f's stacked segments as strategy no., start %, end %, class colour
CCOLORS = "#4e79a7 #f28e2b #e15759 #76b7b2 #59a14f #edc948 #b07aa1 #ff9da7 #9c755f #bab0ac"
ccol(i) = word(CCOLORS, (int(i) - 1) % words(CCOLORS) + 1)
ccoli(i) = ("0x".ccol(i)[2:7]) + 0
bars(f) = sprintf("< %s | awk -F, -v OFS=, -v c=%d -v f=%d -v cl='%s' 'BEGIN{n=split(cl, a, \" \"); for(i=1;i<=n;i++) k[a[i]]=i} " \
    ."$5==c && $1==f && ($7 in k){v[$2, k[$7]]=$9 * 100; s[$2]} END{for(x in s){t=0; for(i=1;i<=n;i++) if(v[x, i]>0)" \
    ."{print x, t, t + v[x, i], i; t+=v[x, i]}}}'", pre("lockwait.csv"), C, f, CLASSES)
# totals(f): strategy no., total % of facet f
totals(f) = sprintf("< %s | awk -F, -v OFS=, -v c=%d -v f=%d '$5==c && $1==f{t[$2]+=$9 * 100} END{for(x in t) print x, t[x]}'", \
    pre("lockwait.csv"), C, f)
tmax(f) = num(system(sprintf("%s | awk -F, -v c=%d -v f=%d '$5==c && $1==f{t[$2]+=$9 * 100} END{for(x in t) if(t[x]>m)m=t[x]; print m+0}'", \
    pre("lockwait.csv"), C, f)))
pct(v) = v >= 10 ? sprintf("%.0f%%", v) : v >= 1 ? sprintf("%.1f%%", v) : v >= 0.01 ? sprintf("%.2f%%", v) : sprintf("%.1g%%", v)
NC = gcols(NP)
NR = grows(NP)
PXCW = 400; PXCH = 20 + 22 * NSTRAT; PXGX = 40; PXGY = 75; PXL = 95; PXB = 45
eval widen(NC, 1000)
KR = keyrows(NCL, 10, gridw(NC))
PXT = keytop(KR)
# the facets without wait, as a footnote wrapped to the image's width
FOOTT = (NOWAIT eq "" ? "" : "no lock wait in: ".NOWAIT).(NOWAIT ne "" && NOREC6 ne "" ? ". " : "") \
    .(NOREC6 eq "" ? "" : "not recorded (locks.lockstat or stats.enabled off) in: ".NOREC6)
FOOT = FOOTT eq "" ? "" : system(sprintf("echo '%s' | fold -s -w %d", FOOTT, int(gridw(NC) / 8.5)))
FOOTN = FOOT eq "" ? 0 : int(system(sprintf("echo '%s' | wc -l", FOOT)))
PXB = PXB + 18 * FOOTN + 16

do for [fmt in "png svg"] {
    eval HAVE && NP > 0 ? term(fmt, gridw(NC), gridh(NR)) : term(fmt, 1000, 650)
    set output NAME.".".fmt
    if (!HAVE) {
        eval nodata(TITLE, NOREC(6) ? "not recorded (locks.lockstat or stats.enabled = off)" \
            : "no data (no lock acquisitions recorded)")
    } else { if (NP == 0) {
        eval nodata(TITLE, sprintf("no lock wait: no CPU waited for a lock at %d simulated CPUs", C))
    } else {
        set multiplot title sprintf("%s at %d simulated CPUs: time spent waiting for each class's locks, as a share of all CPU time\n" \
            ."one bar per strategy, stacked by lock class; trials summed", TITLE, C) font ",12"
        if (FOOTN > 0) { set label 2 FOOT at screen 0.01, screen (18.0 * FOOTN - 4) / gridh(NR) left front font ",11" }
        set style fill solid 0.9 border lc rgb "white"
        set grid xtics
        set xtics out nomirror
        set yrange [NSTRAT + 0.6:0.4]
        do for [k=1:NP] {
            f = int(word(FW, k))
            eval cell(k, NC, NR)
            set title fname(f)
            T = tmax(f)
            set xrange [0:T > 0 ? T * 1.22 : 1]
            set format x (T >= 1 ? "%g%%" : "%.2g%%")
            eval "set ytics (".(firstcol(k, NC) ? YT : YN).") nomirror"
            set xlabel (lastrow(k, NC, NP) ? "waiting (% of CPU time)" : "")
            unset key
            if (k > 1) { unset label 2 }
            plot bars(f) using 2:1:2:3:($1 - 0.35):($1 + 0.35):(ccoli($4)) with boxxyerror fc rgb variable, \
                 totals(f) using ($2 + T * 0.02):1:(pct($2)) with labels left font ",8"
        }
        eval keystrip(NR, KR)
        eval "plot NaN, for [i=1:NCL] keyentry with boxes fc rgb ccol(i) title word(CLASSES, i)"
        unset multiplot
    } }
    unset output
}
