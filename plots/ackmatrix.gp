# ackmatrix.gp -- a heat map of the mean acknowledgement latency (request
# sent -> target acknowledged) for every initiator x target CPU pair, one
# panel per strategy at the largest CPU count present: shows whether some
# targets (busy, far, or last in the IPI order) are consistently slow.
# Reads ackmatrix.csv (point,strategy,cpus,initiator,target,mean_ns); when it
# is missing or empty the image says "no per-target data".
# Writes ackmatrix.png and ackmatrix.svg.
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
NAME = "ackmatrix"
TITLE = "Acknowledgement latency, initiator x target"
HAVE = rows("ackmatrix.csv") > 0
if (HAVE) {
    # the largest CPU count present, its series, and the colour range over all of them
    CMAX = int(system("awk -F, 'NR>1 && $3+0>m{m=$3+0} END{print m+0}' ackmatrix.csv"))
    LIST = system(tag("ackmatrix.csv")." | awk -F, -v c=".CMAX." '$4==c{print $1}' | sort -u")
    ZMIN = real(system("awk -F, -v c=".CMAX." 'NR>1 && $3==c && (!n++ || $6<m){m=$6} END{print m+0}' ackmatrix.csv"))
    ZMAX = real(system("awk -F, -v c=".CMAX." 'NR>1 && $3==c && $6>m{m=$6} END{print m+0}' ackmatrix.csv"))
    HAVE = words(LIST) > 0
}
# cells(s): series s's cells at CMAX, as initiator,target,mean_ns
cells(s) = "< ".tag("ackmatrix.csv")." | awk -F, -v OFS=, -v s=".s." -v c=".CMAX." '$1==s && $4==c{print $5, $6, $7}'"
NS = HAVE ? words(LIST) : 1
NCOL = ceil(sqrt(NS))
NROW = ceil(real(NS) / NCOL)

do for [fmt in "png svg"] {
    eval HAVE ? term(fmt, 560 * NCOL + 80, 480 * NROW + 60) : term(fmt, 1000, 650)
    set output NAME.".".fmt
    if (!HAVE) {
        eval nodata(TITLE, "no per-target data (ackmatrix.csv is missing or empty)")
    } else {
        set multiplot layout NROW, NCOL title sprintf("%s at %d CPUs\nmean request-to-acknowledgement time (ns)", TITLE, CMAX)
        set xrange [-0.5:CMAX - 0.5]
        set yrange [-0.5:CMAX - 0.5]
        set xtics 1 out nomirror
        set ytics 1 out nomirror
        if (CMAX > 16) { set xtics CMAX / 8; set ytics CMAX / 8 }
        set size ratio -1
        set xlabel "target CPU"
        set ylabel "initiator CPU"
        set cbrange [ZMIN:(ZMAX > ZMIN ? ZMAX : ZMIN + 1)]
        set format cb "%g"
        set palette defined (0 "#ffffcc", 0.35 "#feb24c", 0.7 "#f03b20", 1 "#bd0026")
        set style fill solid 1.0 noborder
        unset key
        do for [i=1:words(LIST)] {
            set title word(LIST, i)
            if (CMAX <= 8) {
                plot cells(word(LIST, i)) using 2:1:($2-0.5):($2+0.5):($1-0.5):($1+0.5):3 with boxxyerror fc palette, \
                     cells(word(LIST, i)) using 2:1:(sprintf("%.0f", $3)) with labels font ",8"
            } else {
                plot cells(word(LIST, i)) using 2:1:($2-0.5):($2+0.5):($1-0.5):($1+0.5):3 with boxxyerror fc palette
            }
        }
        unset multiplot
    }
    unset output
}
