# ackmatrix.gp -- mean acknowledgement latency (request posted -> target
# acknowledged, measured at the target) of every initiator x target CPU
# pair: one heat map per strategy on one colour scale, for one facet at the
# largest CPU count.  Shows targets that are slow to answer (busy, far, or
# last in the IPI order) and initiators whose requests wait.
# caption: Mean acknowledgement latency of every initiator x target CPU pair, one heat map per strategy on one colour scale, for the mix with the most acknowledgements at the largest CPU count.
# order: 60
# The facet: the one with the most acknowledgements at that count (a file
# without the acks column counts cells).  Reads ackmatrix.csv (...,
# initiator, target, mean_ns, acks) and summary.csv (which strategies ran).
# Writes ackmatrix.png and ackmatrix.svg.
load "common.gnuplot"
NAME = "ackmatrix"
TITLE = "Acknowledgement latency, initiator x target" . VCLK
HAVE = rows("ackmatrix.csv") > 0 && NFACET > 0
C = HAVE ? int(system("awk -F, 'NR>1 && $3+0>m{m=$3+0} END{print m+0}' ackmatrix.csv")) : 0
# the facet no. with the most acknowledgements at C (the first such)
F = !HAVE ? 0 : int(system(pre("ackmatrix.csv")." | awk -F, -v c=".C." '$5==c{n[$1] += ($10 != \"\" ? $10 : 1)} " \
    ."END{for(f in n) if(n[f]>m || n[f]==m && f+0<b){m=n[f]; b=f+0} print b+0}'"))
# its strategies with cells, and those that ran there without any
SHAVE = !HAVE ? "" : system(pre("ackmatrix.csv")." | awk -F, -v c=".C." -v f=".F." '$5==c && $1==f && !($2 in s){s[$2]; print $2}' " \
    ."| sort -n | tr '\\n' ' '")
SNONE = !HAVE ? "" : system(pre("summary.csv")." | awk -F, -v c=".C." -v f=".F." -v h='".SHAVE."' " \
    ."'BEGIN{split(h, a, \" \"); for(i in a) x[a[i]]} $5==c && $1==f && !($2 in x) && !($2 in s){s[$2]; printf \"%s%s\", (n++ ? \", \" : \"\"), $4}'")
NS = words(SHAVE)
HAVE = HAVE && NS > 0
# cells(s): strategy no. s's cells, as initiator, target, mean_ns
cells(s) = sprintf("< %s | awk -F, -v OFS=, -v c=%d -v f=%d -v s=%s '$5==c && $1==f && $2==s{print $7, $8, $9}'", \
    pre("ackmatrix.csv"), C, F, s)
# grid(s): every pair, missing ones NaN, for "with image" (many CPUs)
grid(s) = sprintf("< %s | awk -F, -v OFS=, -v c=%d -v f=%d -v s=%s '$5==c && $1==f && $2==s{v[$7 FS $8]=$9} " \
    ."END{for(i=0;i<c;i++){for(t=0;t<c;t++) print t, i, ((i FS t) in v ? v[i FS t] : \"NaN\"); print \"\"}}'", pre("ackmatrix.csv"), C, F, s)
ZR = !HAVE ? "1 2" : system(pre("ackmatrix.csv")." | awk -F, -v c=".C." -v f=".F." '$5==c && $1==f{if(!n++ || $9<a)a=$9; if($9>b)b=$9} " \
    ."END{print a+0, b+0}'")
ZMIN = num(word(ZR, 1))
ZMAX = num(word(ZR, 2))
LOGZ = ZMIN > 0 && ZMAX / ZMIN >= 20
ZS = LOGZ ? 1 : 1e-3
# the diagonal: a CPU does not acknowledge itself
DIAG = sprintf("< awk 'BEGIN{for(i=0;i<%d;i++) print i}'", C)
NC = NS <= 1 ? 1 : NS <= 3 ? NS : NS <= 4 ? 2 : NS <= 9 ? 3 : 4
NR = (NS + NC - 1) / NC
PXCW = C <= 4 ? 220 : C <= 8 ? 300 : 380; PXCH = PXCW; PXGX = 70; PXGY = 105; PXL = 70; PXR = 150; PXT = 120
eval widen(NC, 800)

do for [fmt in "png svg"] {
    eval HAVE ? term(fmt, gridw(NC), gridh(NR)) : term(fmt, 1000, 650)
    set output NAME.".".fmt
    if (!HAVE) {
        eval nodata(TITLE, NOREC(5) ? "not recorded (stats.enabled = off: no acknowledgement was timed)" \
            : "no data (no strategy acknowledged requests: ackmatrix.csv is missing or empty)")
    } else {
        set multiplot title sprintf("%s: %s at %d simulated CPUs\nmean time from a request's posting to its acknowledgement, measured at the target%s", \
            TITLE, fname(F), C, SNONE eq "" ? "" : "\nno acknowledgements: ".SNONE) font ",12"
        set xrange [-0.5:C - 0.5]
        set yrange [C - 0.5:-0.5]
        set xtics out nomirror
        set ytics out nomirror
        if (C <= 16) { set xtics 1; set ytics 1 } else { set xtics C / 8; set ytics C / 8 }
        set xlabel "target CPU"
        set ylabel "initiator CPU"
        # colours in ns on a log scale when the cells span 20x, else in µs from 0
        if (LOGZ) {
            set logscale cb 10
            set cbrange [ZMIN / 1.2:ZMAX * 1.2]
            eval "set cbtics ".NSTICS
            set cblabel "mean acknowledgement latency" offset 1.5, 0
        } else {
            set cbrange [0:(ZMAX > 0 ? ZMAX * ZS * 1.05 : 1)]
            set cbtics auto
            set format cb "%g"
            set cblabel "mean acknowledgement latency (µs)" offset 1.5, 0
        }
        set palette defined (0 "#ffffcc", 0.35 "#feb24c", 0.7 "#f03b20", 1 "#bd0026")
        set style fill solid 1.0 noborder
        unset key
        do for [i=1:NS] {
            eval cell(i, NC, NR)
            S = word(SHAVE, i)
            set title word(STRATS, int(S)) font ",11"
            # one colour bar, beside the last heat map, for every panel
            if (i == NS) {
                set colorbox user origin screen (PXL + NC * PXCW + (NC - 1) * PXGX + 25.0) / gridw(NC), screen 1 - (PXT + PXCH) / real(gridh(NR)) \
                    size screen 18.0 / gridw(NC), screen PXCH / real(gridh(NR))
            } else {
                unset colorbox
            }
            if (C <= 32) {
                plot DIAG using 1:1:($1 - 0.5):($1 + 0.5):($1 - 0.5):($1 + 0.5) with boxxyerror fc rgb "#e8e8e8", \
                     cells(S) using 2:1:($2 - 0.5):($2 + 0.5):($1 - 0.5):($1 + 0.5):($3 * ZS) with boxxyerror fc palette, \
                     cells(S) using 2:1:(C <= 4 ? nsfmt($3) : "") with labels font ",9"
            } else {
                plot grid(S) using 1:2:($3 * ZS) with image
            }
        }
        unset multiplot
    }
    unset output
}
