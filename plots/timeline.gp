# timeline.gp -- how the run behaved over time: shootdowns/s, operations/s
# and pages allocated/s per interval, for the first trial of each point (one
# line per strategy and CPU count) -- shows warm-up effects, drift, stalls.
# Reads timeline.csv (point,strategy,cpus,trial,t_s,ops_per_s,
# shootdowns_per_s,pages_per_s).  Writes timeline.png and timeline.svg.
# ---- shared preamble (identical in every plots/*.gp; plot.c runs each script alone) ----
# Reads only the CSV files of the results folder (the working directory).
set datafile separator ","
set termoption noenhanced
# rows(f): data rows of CSV file f; 0 when it is missing or has only its header
rows(f) = int(system("if test -r ".f."; then awk 'NR>1' ".f." | wc -l; else echo 0; fi"))
# tag(f): a shell pipeline printing every data row of f prefixed with its series:
# the strategy, or "strategy:vK" when other swept keys give several points per
# (strategy, cpus) -- K counts them in point order, numbered from summary.csv
# (the report lists what each K stands for).  Columns then shift by one:
# $1 series, $2 point, $3 strategy, $4 cpus, ...
tag(f) = "awk -F, -v OFS=, 'FNR==1{f++; next} f==1{k=$2 FS $3; if(!((k FS $1) in r)){r[k FS $1]=++n[k]; if(n[k]>m)m=n[k]} next} {k=$2 FS $3; v=((k FS $1) in r)?r[k FS $1]:\"p\" $1; print ((m>1)?$2 \":v\" v:$2), $0}' summary.csv ".f
# every series of the run, for colours that match across plots
ALLSER = system(tag("summary.csv")." | cut -d, -f1 | sort -u")
sidx(s) = sum [i=1:words(ALLSER)] (word(ALLSER, i) eq s ? i : 0)
COLORS = "#1f77b4 #d62728 #2ca02c #ff7f0e #9467bd #8c564b #e377c2 #7f7f7f #bcbd22 #17becf #000080 #808000"
scol(s) = word(COLORS, (sidx(s) > 0 ? sidx(s) - 1 : 0) % words(COLORS) + 1)
# term(fmt, w, h): select PNG (pngcairo) or SVG output of size w x h
term(fmt, w, h) = (fmt eq "png") \
    ? sprintf("set terminal pngcairo noenhanced size %d,%d font 'sans,10'", w, h) \
    : sprintf("set terminal svg noenhanced size %d,%d dynamic font 'sans,10'", w, h)
# nodata(title, why): an image that says so instead of a plot
nodata(t, why) = sprintf("unset key; unset logscale; unset colorbox; unset label; unset tics; unset border; set title '%s'; " \
    . "set label 1 '%s' at graph 0.5, 0.5 center font ',20'; plot [0:1][0:1] -1 notitle", t, why)
# ---- end of shared preamble ----
NAME = "timeline"
TITLE = "Timeline"
HAVE = rows("timeline.csv") > 0
# four words per point, ordered by series then CPU count: point series cpus first-trial
INFO = !HAVE ? "" : system(tag("timeline.csv")." | awk -F, '!($2 in t) || $5<t[$2]{t[$2]=$5; s[$2]=$1; c[$2]=$4} " \
    ."END{for(p in t) print p, s[p], c[p], t[p]}' | sort -k2,2 -k3,3n")
NP = words(INFO) / 4
info(i, k) = word(INFO, 4 * (i - 1) + k)
CPUS = system("awk -F, 'NR>1{print $3+0}' timeline.csv | sort -n -u")
cpurank(c) = sum [i=1:words(CPUS)] (word(CPUS, i) eq c ? i : 0)
# series(i, col): point i's first trial, as t_s and column col of timeline.csv
series(i, col) = sprintf("< awk -F, -v OFS=, -v p=%s -v t=%s 'NR>1 && $1==p && $4==t{print $5, $%d}' timeline.csv", \
    info(i, 1), info(i, 4), col)
# ymax(col): the largest value of column col of timeline.csv (a y range that is not empty)
ymax(col) = real(system(sprintf("awk -F, 'NR>1 && $%d>m{m=$%d} END{print m+0}' timeline.csv", col, col)))
yr(col) = sprintf("set yrange [0:%g]", ymax(col) > 0 ? ymax(col) * 1.08 : 1)
lab(i) = sprintf("%s, %s CPUs", info(i, 2), info(i, 3))
dts(i) = (cpurank(info(i, 3)) - 1) % 5 + 1

do for [fmt in "png svg"] {
    eval term(fmt, 1100, 950)
    set output NAME.".".fmt
    if (!HAVE || NP < 1) {
        eval nodata(TITLE, "no data (no interval samples: trials shorter than experiment.interval?)")
    } else {
        set multiplot layout 3, 1 title TITLE." of the first trial of each point (one sample per experiment.interval)" \
            margins 0.09, 0.76, 0.07, 0.93 spacing 0.05, 0.06
        set grid xtics ytics
        set format y "%.1s%c"
        set xrange [0:*]
        set offsets 0, graph 0.04, 0, 0
        set key at screen 0.99, screen 0.93 right top title "strategy, CPUs (line style: CPUs)"
        set title "shootdowns per second (pmap_update() calls that sent requests)"
        set ylabel "shootdowns/s"
        eval yr(7)
        set xlabel ""
        set format x ""
        plot for [i=1:NP] series(i, 7) using 1:2 with linespoints lw 2 pt 7 ps 0.6 dt dts(i) \
            lc rgb scol(info(i, 2)) title lab(i)
        unset key
        set title "operations per second (all roles)"
        set ylabel "ops/s"
        eval yr(6)
        plot for [i=1:NP] series(i, 6) using 1:2 with linespoints lw 2 pt 7 ps 0.6 dt dts(i) \
            lc rgb scol(info(i, 2)) notitle
        set title "pages allocated per second (pool and page churn)"
        set ylabel "pages/s"
        eval yr(8)
        set xlabel "time since the measured window began (s)"
        set format x "%g"
        plot for [i=1:NP] series(i, 8) using 1:2 with linespoints lw 2 pt 7 ps 0.6 dt dts(i) \
            lc rgb scol(info(i, 2)) notitle
        unset multiplot
    }
    unset output
}
