# update_ccdf.gp -- the tail of what a completion costs: for each facet and
# role, the share of completions (pmap_update() and synchronous page
# operations) that cost at least x, on log-log axes, one curve per strategy.
# caption: The tail of what a completion (pmap_update() or a synchronous page operation) costs each role, per mix, at the largest CPU count: the share of completions (the timed ones, stats.update_sample) that cost at least x, all trials merged, on log-log axes.
# order: 40
# A curve that stays high to the right is a long tail; where it crosses the
# dotted 50 % and 1 % lines are its p50 and p99.  Reads update_ccdf.csv
# (..., role, value_ns, ccdf).  Writes update_ccdf.png and update_ccdf.svg.
load "common.gnuplot"
NAME = "update_ccdf"
TITLE = "Update cost, tail" . VCLK
HAVE = rows("update_ccdf.csv") > 0 && NFACET > 0
C = HAVE ? int(system("awk -F, 'NR>1 && $3+0>m{m=$3+0} END{print m+0}' update_ccdf.csv")) : 0
# the panels: facet no. and role with samples at C, in point order
PANELS = !HAVE ? "" : system(pre("update_ccdf.csv")." | awk -F, -v c=".C." '$5==c && !(($1 FS $7) in s)" \
    ."{s[$1 FS $7]; print $1 \":\" $7}' | tr '\\n' ' '")
NP = words(PANELS)
pf(k) = int(word(PANELS, k)[1:strstrt(word(PANELS, k), ":") - 1])
pr(k) = word(PANELS, k)[strstrt(word(PANELS, k), ":") + 1:]
# ccdf(k): panel k's curves as strategy no., value_ns, share (%), drawn as
# steps (the share holds until the next bucket); a blank line between strategies
ccdf(k) = sprintf("< %s | awk -F, -v OFS=, -v f=%d -v r=%s -v c=%d '$1==f && $7==r && $5==c && $8>0{print $2, $8, $9 * 100}' " \
    ."| sort -t, -s -k1,1n | awk -F, -v OFS=, '$1!=l{if(NR>1)print \"\"; l=$1} $1==l && y!=\"\" && p==$1{print $1, $2, y} {print; y=$3; p=$1}'", \
    pre("update_ccdf.csv"), pf(k), pr(k), C)
# the axes' range over every panel, so panels compare
XR = !HAVE ? "1 10" : system(sprintf("awk -F, -v c=%d 'NR>1 && $3==c && $6>0{if(!n++ || $6<a)a=$6; if($6>b)b=$6} " \
    ."END{print a+0, b+0}' update_ccdf.csv", C))
YMIN = !HAVE ? 1 : num(system(sprintf("awk -F, -v c=%d 'NR>1 && $3==c && $7>0 && (!n++ || $7<m){m=$7} END{print m * 100}' update_ccdf.csv", C)))
NC = gcols(NP)
NR = grows(NP)
PXCW = 420; PXCH = 250; PXGX = 65; PXGY = 80; PXL = 95
eval widen(NC, 900)
KR = keyrows(NSTRAT, SLEN, gridw(NC))
PXT = keytop(KR)

do for [fmt in "png svg"] {
    eval NP > 0 ? term(fmt, gridw(NC), gridh(NR)) : term(fmt, 1000, 650)
    set output NAME.".".fmt
    if (NP == 0) {
        eval nodata(TITLE, NOREC(5) ? "not recorded (stats.enabled = off: no update_cost was timed)" \
            : "no data (no role completed a pmap_update() or page operation)")
    } else {
        set multiplot title sprintf("%s at %d simulated CPUs: share of completions that cost at least x (all trials merged)\n" \
            ."dotted: 50 %% (p50) and 1 %% (p99); log-log", TITLE, C) font ",12"
        set logscale xy 10
        eval "set xtics ".NSTICS
        set xtics out nomirror
        set mxtics 10
        set xrange [num(word(XR, 1)) / 1.5:num(word(XR, 2)) * 1.5]
        set yrange [YMIN / 2 < 100 ? YMIN / 2 : 1:150]
        set ytics out nomirror
        set format y "%g%%"
        set grid xtics ytics
        do for [k=1:NP] {
            eval cell(k, NC, NR)
            set title sprintf("%s — role %s", fname(pf(k)), pr(k))
            set xlabel (lastrow(k, NC, NP) ? "cost of one completion" : "")
            set ylabel (firstcol(k, NC) ? "completions costing ≥ x" : "")
            unset key
            plot ccdf(k) using 2:3:(scoli($1)) with lines lw 2 lc rgb variable notitle, \
                50 with lines dt 3 lc rgb '#606060' notitle, 1 with lines dt 3 lc rgb '#606060' notitle
        }
        eval keystrip(NR, KR)
        eval "plot NaN, ".SKEY
        unset multiplot
    }
    unset output
}
