# interference.gp -- how much each side of a mix slows the other down: a
# role's throughput in a mix with other roles against the same role alone
# (a mix of that role only, same strategy, CPUs and other swept values),
# as a slowdown in percent; one panel per mix and role.
# caption: How much each side of a mix slows the other: each role's throughput beside the other roles of its mix against the same role alone (same strategy, CPUs and swept values), as a slowdown in percent; whiskers from the quartiles.
# order: 20
# Slowdown = 1 - median(with others) / median(alone); the whiskers take the
# quartiles instead (q3 / q1 and q1 / q3): a rough spread, not a test (the
# report has the U tests).  With several CPU counts, against the CPU count.
# The alone facet matches a role to the single-role facet whose swept values
# agree wherever both have the key (as bench/report/report.c pairs them).
# Reads summary.csv (ops_per_s.ROLE).  Writes interference.png and .svg.
load "common.gnuplot"
NAME = "interference"
TITLE = "Interference" . VCLK
# every pairing as facet no., role, alone facet no., strategy no., cpus, slowdown %, low %, high %
PAIRS = pre("summary.csv")." | awk -F, -v OFS=, '$7 ~ /^ops_per_s[.]/ && $11>0{r=substr($7, 11); " \
    ."if(!(($1 FS r) in hr)){hr[$1 FS r]; nr[$1]++; role[$1]=r} k=$1 FS r FS $2 FS $5; md[k]=$11; q1[k]=$14; q3[k]=$15; " \
    ."if(!($1 in fn)){fn[$1]=$6; nf++}; if(!(($1 FS r) in seen)){seen[$1 FS r]; o[++no]=$1 FS r}} " \
    ."function kv(f, t,   n, p, i, e){delete t; n=split(f, p, \" / \"); for(i=2;i<=n;i++){e=index(p[i], \"=\"); t[substr(p[i], 1, e-1)]=substr(p[i], e+1)}} " \
    ."END{for(i=1;i<=no;i++){split(o[i], a, FS); f=a[1]; r=a[2]; if(nr[f]<2) continue; kv(fn[f], W); al=0; " \
    ."for(g=1;g<=nf && !al;g++){if(g==f || nr[g]!=1 || role[g]!=r) continue; kv(fn[g], A); ok=1; for(x in A) if((x in W) && W[x]!=A[x]) ok=0; if(ok) al=g} " \
    ."if(!al) continue; for(k in md){split(k, b, FS); if(b[1]!=f || b[2]!=r) continue; j=al FS r FS b[3] FS b[4]; " \
    ."if(!(j in md) || md[j]<=0) continue; lo=(q1[j]>0 ? 100*(1-q3[k]/q1[j]) : 100*(1-md[k]/md[j])); hi=(q3[j]>0 ? 100*(1-q1[k]/q3[j]) : lo); " \
    ."print f, r, al, b[3], b[4], 100*(1-md[k]/md[j]), lo, hi}}}'"
PANELS = !rows("summary.csv") ? "" : system(PAIRS." | awk -F, '!(($1 FS $2) in s){s[$1 FS $2]; print $1 \":\" $2 \":\" $3}' " \
    ."| sort -t: -k1,1n -s | tr '\\n' ' '")
NP = words(PANELS)
pfld(k, i) = system(sprintf("echo '%s' | cut -d: -f%d", word(PANELS, k), i))
# sl(k): panel k's rows as x (strategy no., or the CPU count), slowdown, low, high, strategy no.;
# sorted by strategy then CPUs, a blank line between strategies
sl(k) = sprintf("< %s | awk -F, -v OFS=, -v f=%s -v r=%s -v one=%d '$1==f && $2==r{print (one ? $4 : $5), $6, $7, $8, $4}' " \
    ."| sort -t, -k5,5n -k1,1n | awk -F, '$5!=l && NR>1{print \"\"} {l=$5; print}'", PAIRS, pfld(k, 1), pfld(k, 2), NCPU == 1)
XR = NP == 0 ? "0 1" : system(PAIRS." | awk -F, '{for(i=6;i<=8;i++){if($i<a)a=$i; if($i>b)b=$i}} END{print a+0, b+0}'")
XLO = num(word(XR, 1)) < 0 ? num(word(XR, 1)) : 0
XHI = num(word(XR, 2)) > 0 ? num(word(XR, 2)) : 1
ONE = NCPU == 1
NC = gcols(NP)
NR = grows(NP)
if (ONE) { PXCW = 440; PXCH = 20 + 22 * NSTRAT; PXGX = 40; PXGY = 90; PXL = 95; PXB = 45 } \
else { PXCW = 420; PXCH = 250; PXGX = 70; PXGY = 95; PXL = 85 }
eval widen(NC, 900)
KR = ONE ? 0 : keyrows(NSTRAT, SLEN, gridw(NC))
PXT = ONE ? 110 : keytop(KR) + 16

do for [fmt in "png svg"] {
    eval NP > 0 ? term(fmt, gridw(NC), gridh(NR)) : term(fmt, 1000, 650)
    set output NAME.".".fmt
    if (NP == 0) {
        eval nodata(TITLE, "no data (no mix runs a role both beside other roles and alone)")
    } else {
        set multiplot title sprintf("%s: how much slower each role runs beside the others of its mix than alone%s\n" \
            ."slowdown = 1 - median with others / median alone; whiskers from the quartiles", TITLE, \
            ONE ? sprintf(", at %s simulated CPUs", word(CPUS, 1)) : "") font ",12"
        set grid xtics ytics
        set style fill solid 0.8 noborder
        do for [k=1:NP] {
            eval cell(k, NC, NR)
            set title sprintf("%s — role %s\nalone: %s", fname(int(pfld(k, 1))), pfld(k, 2), fname(int(pfld(k, 3))))
            unset key
            if (ONE) {
                set xrange [XLO - (XLO < 0 ? 0.16 : 0.04) * (XHI - XLO):XHI + 0.14 * (XHI - XLO)]
                set format x "%g%%"
                set xtics out nomirror
                set yrange [NSTRAT + 0.6:0.4]
                eval "set ytics (".(firstcol(k, NC) ? YT : YN).") nomirror"
                set xlabel (lastrow(k, NC, NP) ? "slowdown beside the other roles" : "")
                plot sl(k) using (0):1:(0):2:($1 - 0.35):($1 + 0.35):(scoli($5)) with boxxyerror fc rgb variable, \
                     sl(k) using 2:1:3:4 with xerrorbars lc rgb "#303030" pt -1, \
                     sl(k) using ($2 >= 0 ? ($4 > $2 ? $4 : $2) + (XHI - XLO) * 0.02 : NaN):1:(sprintf("%.0f%%", $2)) with labels left font ",8", \
                     sl(k) using ($2 < 0 ? ($3 < $2 ? $3 : $2) - (XHI - XLO) * 0.02 : NaN):1:(sprintf("%.0f%%", $2)) with labels right font ",8"
            } else {
                eval cpuaxis
                set xlabel (lastrow(k, NC, NP) ? "simulated CPUs" : "")
                set yrange [XLO - 0.05 * (XHI - XLO):XHI + 0.05 * (XHI - XLO)]
                set format y "%g%%"
                set ytics auto out nomirror
                set ylabel (firstcol(k, NC) ? "slowdown beside the others" : "")
                plot sl(k) using 1:2:3:4:(scoli($5)) with yerrorlines lw 2 pt 7 ps 0.8 lc rgb variable, 0 with lines lc rgb "#606060" dt 2
            }
        }
        if (!ONE) {
            eval keystrip(NR, KR)
            eval "plot NaN, ".SKEY
        }
        unset multiplot
    }
    unset output
}
