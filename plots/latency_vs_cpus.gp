# latency_vs_cpus.gp -- p50 and p99 shootdown latency at the initiator against
# the simulated CPU count, one pair of lines per strategy: how each strategy's
# typical and tail cost grow with the number of targets.
# Reads summary.csv (metrics shootdown_latency_p50 / shootdown_latency_p99:
# median over trials, bars from min to max).  Writes latency_vs_cpus.png/.svg.
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
NAME = "latency_vs_cpus"
TITLE = "Shootdown latency against CPU count"
# pct(s, m): series s's rows of metric m, as cpus,median,min,max (min 0 replaced: log y)
pct(s, m) = "< ".tag("summary.csv")." | awk -F, -v OFS=, -v s=".s." -v m=".m." '$1==s && $5==m && $9>0{print $4, $9, ($10>0 ? $10 : $9), $11}' | sort -t, -k1,1n"
LIST = system(tag("summary.csv")." | awk -F, '($5==\"shootdown_latency_p50\" || $5==\"shootdown_latency_p99\") && $9>0{print $1}' | sort -u")
HAVE = words(LIST) > 0

do for [fmt in "png svg"] {
    eval term(fmt, 1000, 650)
    set output NAME.".".fmt
    if (!HAVE) {
        eval nodata(TITLE, "no data (no shootdowns were measured)")
    } else {
        set title TITLE." (p50 solid, p99 dashed)\nmedian over trials; bars: min to max over trials"
        eval cpuaxis
        set logscale y 10
        set format y "%.0s%c"
        set ylabel "shootdown latency at the initiator (ns, log scale)"
        set grid xtics ytics mytics
        set key outside right top
        plot for [i=1:words(LIST)] pct(word(LIST, i), "shootdown_latency_p50") using 1:2:3:4 \
                with yerrorlines lw 2 pt 7 dt 1 lc rgb scol(word(LIST, i)) title word(LIST, i)." p50", \
             for [i=1:words(LIST)] pct(word(LIST, i), "shootdown_latency_p99") using 1:2:3:4 \
                with yerrorlines lw 2 pt 5 dt 2 lc rgb scol(word(LIST, i)) title word(LIST, i)." p99"
    }
    unset output
}
