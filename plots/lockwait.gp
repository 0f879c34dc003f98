# lockwait.gp -- lock wait-time share by lock class, one stacked bar per
# strategy and CPU count: which locks a strategy makes CPUs wait for, and how
# that grows with the CPU count.
# Reads lockwait.csv (point,strategy,cpus,class,algorithm,wait_share,...;
# wait_share = wait time / (measured seconds x CPUs), trials summed).
# Writes lockwait.png and lockwait.svg.
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
NAME = "lockwait"
TITLE = "Lock wait-time share by class"
HAVE = rows("lockwait.csv") > 0
# the lock classes, in their order in the file
CLASSES = system("awk -F, 'NR>1 && !($4 in s){s[$4]; print $4}' lockwait.csv")
# one bar per (series, cpus), ordered by series then CPU count, an empty bar
# between series; columns: label, then each class's share in percent
PIVOT = "< ".tag("lockwait.csv")." | sort -t, -s -k1,1 -k4,4n | awk -F, -v OFS=, -v cl=\"".CLASSES."\" " \
    ."'BEGIN{nc=split(cl, c, \" \"); printf \"bar\"; for(i=1;i<=nc;i++) printf \",%s\", c[i]; print \"\"} " \
    ."{b=$1 \" @ \" $4; if(!(b in seen)){seen[b]; if(ns && $1!=last) blank[nb]=1; last=$1; ns=1; bar[++nb]=b} v[b,$5]=$7*100} " \
    ."END{for(j=1;j<=nb;j++){printf \"%s\", bar[j]; for(i=1;i<=nc;i++) printf \",%g\", v[bar[j],c[i]]+0; print \"\"; " \
    ."if(blank[j]){printf \"\"; for(i=1;i<=nc;i++) printf \",0\"; print \"\"}}}'"
NBARS = HAVE ? int(system(PIVOT[3:]." | awk 'NR>1' | wc -l")) : 0
# the tallest bar (0: nothing waited)
TOTAL = HAVE ? real(system(PIVOT[3:]." | awk -F, 'NR>1{t=0; for(i=2;i<=NF;i++) t+=$i; if(t>m) m=t} END{print m+0}'")) : 0

do for [fmt in "png svg"] {
    eval term(fmt, 1000, 650)
    set output NAME.".".fmt
    if (!HAVE) {
        eval nodata(TITLE, "no data (no lock acquisitions recorded)")
    } else {
        set title TITLE." per strategy and CPU count\n(time spent waiting for each class's locks, as a share of all simulated CPU time; trials summed)"
        set style data histograms
        set style histogram rowstacked
        set style fill solid 0.85 border -1
        set boxwidth 0.75
        set yrange [0:TOTAL > 0 ? TOTAL * 1.1 : 1]
        set ylabel "wait time (% of CPU time)"
        set xlabel "strategy @ simulated CPUs"
        if (NBARS > 4) { set xtics rotate by -35 left } else { set xtics norotate }
        set grid ytics
        set key outside right top title "lock class"
        if (TOTAL <= 0) {
            set label 1 "no lock waits were measured" at graph 0.5, 0.5 center font ",16"
        }
        plot for [i=2:words(CLASSES) + 1] PIVOT using (column(i)):xtic(1) title columnheader(i)
        unset label 1
    }
    unset output
}
