# throughput.gp -- operations per second (all roles) against the simulated
# CPU count, one line per strategy, each with a dashed linear-scaling
# reference from its smallest CPU count: how far from ideal each scales.
# Reads summary.csv (metric ops_per_s: median over trials, bars from min to
# max).  Writes throughput.png and throughput.svg.
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
# the CPU counts of the run (summary.csv), as x tics; log2 x when they span 8x or more
CPUS = system("awk -F, 'NR>1{print $3+0}' summary.csv | sort -n -u")
CMIN = words(CPUS) > 0 ? real(word(CPUS, 1)) : 1
CMAX = words(CPUS) > 0 ? real(word(CPUS, words(CPUS))) : 1
LOGX = CMAX / CMIN >= 8
XT = ""
do for [c in CPUS] { XT = XT.(XT eq "" ? "" : ", ").sprintf("\"%s\" %s", c, c) }
cpuaxis = "set xtics (".XT."); set xlabel 'simulated CPUs'; " \
    .(LOGX ? sprintf("set logscale x 2; set xrange [%g:%g]", CMIN / 1.25, CMAX * 1.25) \
           : sprintf("unset logscale x; set xrange [%g:%g]", CMIN - 0.5, CMAX + 0.5))
NAME = "throughput"
TITLE = "Throughput against CPU count"
# ops(s): series s's ops_per_s rows as cpus,median,min,max
ops(s) = "< ".tag("summary.csv")." | awk -F, -v OFS=, -v s=".s." '$1==s && $5==\"ops_per_s\" && (!".LOGX." || $9>0){print $4, $9, ($10>0 || !".LOGX." ? $10 : $9), $11}' | sort -t, -k1,1n"
# lin(s): the linear-scaling reference of series s: its median at its smallest CPU count, times cpus / that count
lin(s) = ops(s)." | awk -F, -v OFS=, 'NR==1{c0=$1; y0=$2} {print $1, y0 * $1 / c0}'"
LIST = system(tag("summary.csv")." | awk -F, '$5==\"ops_per_s\"{print $1}' | sort -u")
HAVE = words(LIST) > 0

do for [fmt in "png svg"] {
    eval term(fmt, 1000, 650)
    set output NAME.".".fmt
    if (!HAVE) {
        eval nodata(TITLE, "no data")
    } else {
        set title TITLE." (all roles' operations per second)\nmedian over trials; bars: min to max over trials; " \
            ."dashed: linear scaling from each strategy's smallest CPU count"
        eval cpuaxis
        if (LOGX) { set logscale y 10 } else { set yrange [0:*] }
        set format y "%.1s%c"
        set ylabel "operations/s".(LOGX ? " (log scale)" : "")
        set grid xtics ytics
        set key outside right top
        plot for [i=1:words(LIST)] ops(word(LIST, i)) using 1:2:3:4 \
                with yerrorlines lw 2 pt 7 lc rgb scol(word(LIST, i)) title word(LIST, i), \
             for [i=1:words(LIST)] lin(word(LIST, i)) using 1:2 \
                with lines lw 1 dt 2 lc rgb scol(word(LIST, i)) notitle, \
             keyentry with lines lw 1 dt 2 lc rgb "#404040" title "linear scaling"
    }
    unset output
}
