# common.gnuplot -- what every plots/*.gp script shares.  Each script starts
#     load "common.gnuplot"
# and runs alone, with a results folder as its working directory, reading
# only the CSV files there.  `pmapstorm plot` (bench/report/plot.c) puts plots/ on
# gnuplot's load path (GNUPLOT_LIB); by hand:
#     cd results/latest && GNUPLOT_LIB=/path/to/plots gnuplot /path/to/plots/throughput.gp
#
# Every CSV row starts point,strategy,cpus,facet (bench/record/results.c).  A facet
# is a mix plus the swept values other than strategy and CPU count, so the
# points of one facet differ only in strategy and CPUs: plots draw a panel
# per facet (or per facet and role), a colour per strategy, and CPUs on x.
set datafile separator ","
set termoption noenhanced
set encoding utf8

# rows(f): data rows of CSV file f; 0 when it is missing or has only its header
rows(f) = int(system("if test -r ".f."; then awk 'NR>1' ".f." | wc -l; else echo 0; fi"))

# The strategies and the facets of the run, in point order (summary.csv);
# facet names may hold spaces, so FACETS quotes each (word() honours quotes).
STRATS = system("test -r summary.csv && awk -F, 'NR>1 && !($2 in s){s[$2]; printf \"%s \", $2}' summary.csv")
NSTRAT = words(STRATS)
SLEN = 0
do for [s in STRATS] { SLEN = strlen(s) > SLEN ? strlen(s) : SLEN }
FACETS = system("test -r summary.csv && awk -F, 'NR>1 && !($4 in s){s[$4]; printf \"\\042%s\\042 \", $4}' summary.csv")
NFACET = words(FACETS)
fname(i) = (word(FACETS, i) eq "" ? "all points" : word(FACETS, i))

# num(s): the number that awk printed as s.  gnuplot's real() refuses an
# exponent whose mantissa has no point ("5e+10", which mawk prints for
# 5e10, or "2e+06" for 2000000.5), so one is added before it is read
numexp(s) = strstrt(s, "e") > 0 ? strstrt(s, "e") : strstrt(s, "E")
num(s) = numexp(s) > 0 && strstrt(s, ".") == 0 ? real(s[1:numexp(s) - 1] . ".0" . s[numexp(s):]) : real(s)

# pre(f): a shell pipeline printing every data row of f prefixed with its
# facet and strategy numbers (from summary.csv's order), so that a filter
# never has to quote a facet name.  Columns then shift by two:
# $1 facet no., $2 strategy no., $3 point, $4 strategy, $5 cpus, $6 facet, ...
pre(f) = "awk -F, -v OFS=, 'FNR==NR{if(FNR>1){if(!($4 in F))F[$4]=++nf; if(!($2 in S))S[$2]=++ns} next} " \
    ."FNR>1{print F[$4]+0, S[$2]+0, $0}' summary.csv ".f

# recorded.csv (point, strategy, cpus, facet, statistics, lockstat; 1/0):
# NOREC(col) is true when no point recorded column col (5: statistics,
# 6: lockstat), so a plot with no data says "not recorded", not "none";
# UNREC(col, c) the facet numbers at c CPUs that did not record it.
NOREC(col) = rows("recorded.csv") > 0 && \
    int(system(sprintf("awk -F, 'NR>1 && $%d==1{n++} END{print n+0}' recorded.csv", col))) == 0
UNREC(col, c) = !(rows("recorded.csv") > 0) ? "" : \
    system(sprintf("%s | awk -F, -v c=%d '$5==c && $%d==0{print $1}' | sort -un | tr '\\n' ' '", pre("recorded.csv"), c, col + 2))

# one colour per strategy, the same in every plot of a run
COLORS = "#1f77b4 #d62728 #2ca02c #ff7f0e #9467bd #8c564b #e377c2 #7f7f7f #bcbd22 #17becf #000080 #808000"
scol(i) = word(COLORS, (int(i) - 1) % words(COLORS) + 1)
# the same as an integer, for "lc rgb variable" (one plot clause for every strategy)
scoli(i) = ("0x".scol(i)[2:7]) + 0
# strategies down a y axis, first at the top (set yrange [NSTRAT + 0.6:0.4]):
# tics named (YT, the first column of a grid) or blank (YN, the others)
YT = ""
YN = ""
do for [i=1:NSTRAT] { YT = YT.(i > 1 ? ", " : "").sprintf("\"%s\" %d", word(STRATS, i), i); YN = YN.(i > 1 ? ", " : "").sprintf("\"\" %d", i) }
# the strategies' legend (see keystrip)
SKEY = "for [i=1:NSTRAT] keyentry with linespoints lw 2 pt 7 lc rgb scol(i) title word(STRATS, i)"

# The CPU counts of the run: x tics at each count (powers of two when there
# are many), log2 x when they span 8x or more (a sweep of 1..256 CPUs).
CPUS = system("test -r summary.csv && awk -F, 'NR>1{print $3+0}' summary.csv | sort -n -u | tr '\\n' ' '")
NCPU = words(CPUS)
# machine.engine = virtual: every time and rate in summary.csv is virtual
# (units "virtual ns", "ops/virtual s"); VCLK goes into every title
VIRT = rows("summary.csv") ? int(system("awk -F, '$6 ~ /^(virtual |ops.virtual|1.virtual)/{v=1} END{print v+0}' summary.csv")) : 0
VCLK = VIRT ? " (virtual time)" : ""
CMIN = NCPU > 0 ? real(word(CPUS, 1)) : 1
CMAX = NCPU > 0 ? real(word(CPUS, NCPU)) : 1
LOGX = CMAX / CMIN >= 8
XT = ""
do for [c in CPUS] { XT = XT.(XT eq "" ? "" : ", ").sprintf("\"%s\" %s", c, c) }
cpuaxis = "unset xtics; set xtics out nomirror; set xlabel 'simulated CPUs'; " \
    .(NCPU <= 12 ? "set xtics (".XT."); " : "") \
    .(LOGX ? sprintf("set logscale x 2; set xrange [%g:%g]; ", CMIN / 1.3, CMAX * 1.3) \
           : sprintf("unset logscale x; set xrange [%g:%g]; ", CMIN - 0.15 * (CMAX - CMIN + 1), CMAX + 0.15 * (CMAX - CMIN + 1)))

# term(fmt, w, h): PNG (pngcairo) or SVG output of w x h pixels
term(fmt, w, h) = (fmt eq "png") \
    ? sprintf("set terminal pngcairo noenhanced size %d,%d font 'sans,10'", w, h) \
    : sprintf("set terminal svg noenhanced size %d,%d dynamic font 'sans,10'", w, h)
# nodata(title, why): an image that says so instead of a plot
nodata(t, why) = sprintf("unset key; unset logscale; unset colorbox; unset label; unset tics; unset border; " \
    ."set lmargin; set rmargin; set tmargin; set bmargin; set title '%s' font ',14'; " \
    ."set label 1 '%s' at graph 0.5, 0.5 center font ',16'; plot [0:1][0:1] -1 notitle", t, why)

# Small multiples, laid out in pixels: a script sets the cell size PXCW x
# PXCH, the gaps PXGX, PXGY between cells (room for tic labels and panel
# titles) and the margins PXL, PXR, PXT (the title and the legend), PXB;
# gridw/gridh give the image size for nc x nr cells and cell(k, nc, nr)
# places the next plot in cell k (row-major, from 1).
PXCW = 420; PXCH = 260; PXGX = 70; PXGY = 75; PXL = 80; PXR = 30; PXT = 110; PXB = 55
gridw(nc) = PXL + PXR + nc * PXCW + (nc - 1) * PXGX
gridh(nr) = PXT + PXB + nr * PXCH + (nr - 1) * PXGY
cell(k, nc, nr) = sprintf("set lmargin at screen %.4f; set rmargin at screen %.4f; " \
    ."set tmargin at screen %.4f; set bmargin at screen %.4f", \
    (PXL + ((k - 1) % nc) * (PXCW + PXGX)) / real(gridw(nc)), \
    (PXL + ((k - 1) % nc) * (PXCW + PXGX) + PXCW) / real(gridw(nc)), \
    1 - (PXT + ((k - 1) / nc) * (PXCH + PXGY)) / real(gridh(nr)), \
    1 - (PXT + ((k - 1) / nc) * (PXCH + PXGY) + PXCH) / real(gridh(nr)))
# The legend goes in a strip across the image under its two-line title:
# keyrows(n, len, w) is how many lines n entries of at most len characters
# take in w pixels, keytop(r) the PXT that leaves room for the title, r
# legend lines and the panels' titles; keystrip(nr, r) prepares a last plot
# that draws only the legend: eval keystrip(nr, r); eval "plot NaN, ".SKEY
keyrows(n, len, w) = int(ceil(n * (len * 7.0 + 55) / (0.96 * w)))
keytop(r) = 44 + 20 * r + 44
keystrip(nr, r) = sprintf("unset title; unset xlabel; unset ylabel; unset label; unset border; unset tics; unset grid; " \
    ."unset logscale; unset colorbox; set lmargin at screen 0.01; set rmargin at screen 0.99; " \
    ."set tmargin at screen %.4f; set bmargin at screen %.4f; " \
    ."set key center center horizontal maxrows %d samplen 2.5 width 1 noautotitle; set xrange [0:1]; set yrange [0:1]", \
    1 - 44.0 / gridh(nr), 1 - (44.0 + 20 * r) / gridh(nr), r)
# is cell k in the first column, in the bottom row?
firstcol(k, nc) = (k - 1) % nc == 0
lastrow(k, nc, n) = k > n - nc
# widen(nc, w): at least w pixels wide (for the title and the legend), the
# grid centred: eval widen(NC, 900) after setting the PX* sizes
widen(nc, w) = gridw(nc) >= w ? "" : sprintf("PXL = PXL + %d; PXR = PXR + %d", (w - gridw(nc)) / 2, w - gridw(nc) - (w - gridw(nc)) / 2)
# a grid for n panels: at most 3 columns (4 when n > 9)
gcols(n) = n <= 1 ? 1 : n <= 4 ? 2 : n <= 9 ? 3 : 4
grows(n) = (n + gcols(n) - 1) / gcols(n)

# time axes in nanoseconds, on a log scale: tics at every power of ten, in
# the unit that reads best
NSTICS = "(\"1 ns\" 1, \"10 ns\" 10, \"100 ns\" 100, \"1 µs\" 1e3, \"10 µs\" 1e4, \"100 µs\" 1e5, " \
    ."\"1 ms\" 1e6, \"10 ms\" 1e7, \"100 ms\" 1e8, \"1 s\" 1e9, \"10 s\" 1e10)"
# a time in ns as text: 850 ns, 3.4 µs, 12.0 ms
nsfmt(v) = v < 1e3 ? sprintf("%.0f ns", v) : v < 1e6 ? sprintf("%.1f µs", v / 1e3) : v < 1e9 ? sprintf("%.1f ms", v / 1e6) : sprintf("%.2f s", v / 1e9)
# linaxis(ax, m): tics for a linear axis from 0 to m, about 5 of them at 1, 2
# or 5 times a power of ten, labelled 500, 2500, 30k, 1.5M (a decimal only
# where a step of 100k..500k, 100M.. crosses into the next prefix)
tstep_e(m) = floor(log10(m / 5.0))
tstep_m(m) = m / 5.0 / 10**tstep_e(m)
tstep(m) = (tstep_m(m) < 1.5 ? 1 : tstep_m(m) < 3.5 ? 2 : tstep_m(m) < 7.5 ? 5 : 10) * 10**tstep_e(m)
linaxis(ax, m) = m <= 0 ? sprintf("set %stics auto; set format %s '%%g'", ax, ax) : \
    sprintf("set %stics 0, %g; set format %s '%s'", ax, tstep(m), ax, \
    m < 1e4 ? "%g" : int(floor(log10(tstep(m)) + 1e-9)) % 3 == 2 ? "%.1s%c" : "%.0s%c")
# tics at 1, 2 and 5 times each power of ten (1 ... 5G), for a log axis of counts or rates,
T125 = ""
do for [e=0:9] { do for [m in "1 2 5"] { T125 = T125.(T125 eq "" ? "(" : ", ").sprintf("\"%s\" %g", gprintf("%.0s%c", m * 10**e), m * 10**e) } }
T125 = T125.")"
# ... and at every 1..9 times a power of ten, for a log axis that spans less than 10x
T19 = ""
do for [e=0:9] { do for [m=1:9] { T19 = T19.(T19 eq "" ? "(" : ", ").sprintf("\"%s\" %g", gprintf("%.0s%c", m * 10**e), m * 10**e) } }
T19 = T19.")"
