# latency_cdf.gp -- the shootdown latency CDF (initiator pmap_update() that
# sent requests), one curve per strategy at the largest CPU count present,
# log x: the whole distribution, tail included, in one picture.
# Reads latency_cdf.csv (point,strategy,cpus,latency_ns,cdf; trials merged).
# Writes latency_cdf.png and latency_cdf.svg.
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
NAME = "latency_cdf"
TITLE = "Shootdown latency CDF per strategy"
HAVE = rows("latency_cdf.csv") > 0
if (HAVE) {
    # the largest CPU count with latency samples, and the series present there
    CMAX = int(system("awk -F, 'NR>1 && $4>0 && $3+0>m{m=$3+0} END{print m+0}' latency_cdf.csv"))
    LIST = system(tag("latency_cdf.csv")." | awk -F, -v c=".CMAX." '$4==c && $5>0{print $1}' | sort -u")
    HAVE = words(LIST) > 0
}
# cdf(s): the CDF rows of series s at CMAX, as latency_ns,cdf
cdf(s) = "< ".tag("latency_cdf.csv")." | awk -F, -v OFS=, -v s=".s." -v c=".CMAX." '$1==s && $4==c && $5>0{print $5, $6}'"

do for [fmt in "png svg"] {
    eval term(fmt, 1000, 650)
    set output NAME.".".fmt
    if (!HAVE) {
        eval nodata(TITLE, "no data (no shootdowns were measured)")
    } else {
        set title sprintf("%s at %d CPUs\n(initiator: pmap_update() that sent requests; all trials merged)", TITLE, CMAX)
        set logscale x 10
        set format x "%.0s%c"
        set xlabel "shootdown latency (ns, log scale)"
        set ylabel "fraction of updates with latency <= x"
        set yrange [0:1.02]
        set grid xtics mxtics ytics
        set key bottom right box opaque
        plot for [i=1:words(LIST)] cdf(word(LIST, i)) using 1:2 with steps lw 2 \
            lc rgb scol(word(LIST, i)) title word(LIST, i)
    }
    unset output
}
