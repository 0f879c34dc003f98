# throughput.gp -- each role's operations per second, one panel per facet
# and role: roles do different work, so their rates are never added up.
# caption: Throughput of each role, one panel per mix and role (roles do different work, so their rates are never added up): operations per second, median over trials, bars from the first to the third quartile; against the CPU count when the run has several.
# order: 10
# Against the CPU count, one line per strategy, when the run has several
# CPU counts; else one bar per strategy.  Reads summary.csv (metrics
# ops_per_s.ROLE: median, q1, q3).  Writes throughput.png and throughput.svg.
load "common.gnuplot"
NAME = "throughput"
TITLE = "Throughput of each role" . VCLK
# the panels: facet no. and role of every ops_per_s.ROLE, in point order
PANELS = !rows("summary.csv") ? "" : system(pre("summary.csv")." | awk -F, '$7 ~ /^ops_per_s[.]/ && !(($1 FS $7) in s)" \
    ."{s[$1 FS $7]; print $1 \":\" substr($7, 11)}' | tr '\\n' ' '")
NP = words(PANELS)
pf(k) = int(word(PANELS, k)[1:strstrt(word(PANELS, k), ":") - 1])
pr(k) = word(PANELS, k)[strstrt(word(PANELS, k), ":") + 1:]
ptitle(k) = sprintf("%s — role %s", fname(pf(k)), pr(k))
# ops(k): panel k's rows as strategy no., median, q1, q3, cpus -- sorted by
# strategy then CPUs, a blank line between strategies (one line each)
ops(k) = sprintf("< %s | awk -F, -v OFS=, -v f=%d -v m=ops_per_s.%s '$1==f && $7==m{print $2, $11, $14, $15, $5}' " \
    ."| sort -t, -k1,1n -k5,5n | awk -F, '$1!=l && NR>1{print \"\"} {l=$1; print}'", pre("summary.csv"), pf(k), pr(k))
# range(k): the smallest q1 or median above 0 and the largest q3 or median of panel k
range(k) = system(sprintf("%s | awk -F, -v f=%d -v m=ops_per_s.%s '$1==f && $7==m{if($15>t)t=$15; if($11>t)t=$11; " \
    ."v=($14>0 && $14<$11 ? $14 : $11); if(v>0 && (!n++ || v<b))b=v} END{print b+0, t+0}'", pre("summary.csv"), pf(k), pr(k)))
NC = gcols(NP)
NR = grows(NP)
BARS = NCPU == 1
if (BARS) { PXCH = 20 + 22 * NSTRAT; PXGX = 40; PXL = 95; PXGY = 70; PXB = 35 }
eval widen(NC, 900)
# bars name the strategies on the y axis, lines need the legend
KR = BARS ? 0 : keyrows(NSTRAT, SLEN, gridw(NC))
PXT = BARS ? 90 : keytop(KR)

do for [fmt in "png svg"] {
    eval NP > 0 ? term(fmt, gridw(NC), gridh(NR)) : term(fmt, 1000, 650)
    set output NAME.".".fmt
    if (NP == 0) {
        eval nodata(TITLE, "no data (no ops_per_s.ROLE in summary.csv)")
    } else {
        set multiplot title sprintf("%s (operations per second)%s\nmedian over trials; bars: first to third quartile", \
            TITLE, BARS ? sprintf(" at %s simulated CPUs, the run's one CPU count", word(CPUS, 1)) : "") font ",12"
        set grid xtics ytics
        set style fill solid 0.8 noborder
        do for [k=1:NP] {
            eval cell(k, NC, NR)
            set title ptitle(k)
            R = range(k)
            T = num(word(R, 2))
            B = num(word(R, 1))
            if (BARS) {
                unset logscale
                set yrange [NSTRAT + 0.6:0.4]
                eval "set ytics (".(firstcol(k, NC) ? YT : YN).")"
                set ytics nomirror
                set xrange [0:T > 0 ? T * 1.25 : 1]
                eval linaxis("x", T * 1.2)
                set xtics nomirror
                plot ops(k) using (0):1:(0):2:($1 - 0.35):($1 + 0.35):(scoli($1)) with boxxyerror fc rgb variable notitle, \
                     ops(k) using 2:1:3:4 with xerrorbars lc rgb "#303030" pt -1 notitle, \
                     ops(k) using (($4 > $2 ? $4 : $2) + T * 0.02):1:(gprintf("%.1s%c", $2)) with labels left font ",8" notitle
            } else {
                eval cpuaxis
                set xlabel (lastrow(k, NC, NP) ? "simulated CPUs" : "")
                # log y when the CPU counts span 8x (a sweep of 1..256), linear from 0 else
                if (LOGX && B > 0) {
                    set logscale y 10
                    set yrange [B / 1.3:T * 1.3]
                    eval "set ytics ".(T / B >= 10 ? T125 : T19)
                } else {
                    unset logscale y
                    set yrange [0:T > 0 ? T * 1.1 : 1]
                    eval linaxis("y", T * 1.05)
                }
                set ytics out nomirror
                set ylabel (firstcol(k, NC) ? "operations/s".(LOGX ? " (log scale)" : "") : "")
                unset key
                plot ops(k) using 5:2:3:4:(scoli($1)) with yerrorlines lw 2 pt 7 ps 0.8 lc rgb variable notitle
            }
        }
        if (!BARS) {
            eval keystrip(NR, KR)
            eval "plot NaN, ".SKEY
        }
        unset multiplot
    }
    unset output
}
