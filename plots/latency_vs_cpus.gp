# latency_vs_cpus.gp -- what a completion costs, typical and tail, against
# the CPU count: for each facet's first role (that completes updates), its
# update_cost p50 and p99 and, where a request interrupted another CPU, its
# remote_latency p50; one colour per strategy.
# caption: Update cost p50 and p99 and remote-invalidation latency p50 of each mix's first role, against the CPU count (per strategy when the run has one CPU count): median over trials, bars from the first to the third quartile.
# order: 50
# With several CPU counts x is the CPU count (log2 when the counts span 8x
# or more: a sweep of 1..256); with one, x is the strategy and the title
# says so.  Reads summary.csv (update_cost_p50.ROLE, update_cost_p99.ROLE,
# remote_latency_p50.ROLE).  Writes latency_vs_cpus.png and .svg.
load "common.gnuplot"
NAME = "latency_vs_cpus"
TITLE = "Update cost and remote latency" . VCLK
# the panels: "facet no.:role", the first role of each facet with an update
# cost p99 above 0 somewhere
PANELS = !rows("summary.csv") ? "" : system(pre("summary.csv")." | awk -F, '$7 ~ /^ops_per_s[.]/ && !(($1 FS $7) in s)" \
    ."{s[$1 FS $7]; o[++n]=$1 FS substr($7, 11)} $7 ~ /^update_cost_p99[.]/ && $11>0{u[$1 FS substr($7, 17)]} " \
    ."END{for(i=1;i<=n;i++){split(o[i], a, FS); if(!(a[1] in d) && (o[i] in u)){d[a[1]]; printf \"%s:%s \", a[1], a[2]}}}'")
NP = words(PANELS)
# the panels whose role has metric M above 0 somewhere ("facet no.:role"
# words): a log axis cannot draw 0, and a series with no point makes gnuplot
# warn (a pool role's completions cost 0 ns when they touch no TLB; a
# strategy that sends nothing has no remote latency)
POS(M) = NP == 0 ? "" : system(pre("summary.csv")." | awk -F, '$7 ~ /^".M."[.]/ && $11>0 && !(($1 FS $7) in s)" \
    ."{s[$1 FS $7]; printf \"%s:%s \", $1, substr($7, ".(strlen(M) + 2).")}'")
P50 = POS("update_cost_p50")
REMOTE = POS("remote_latency_p50")
haspos(L, k) = strstrt(" ".L, " ".word(PANELS, k)." ") > 0
remote(k) = haspos(REMOTE, k)
pf(k) = int(word(PANELS, k)[1:strstrt(word(PANELS, k), ":") - 1])
pr(k) = word(PANELS, k)[strstrt(word(PANELS, k), ":") + 1:]
# met(k, m, d): panel k's metric m.ROLE as x, median, q1, q3, strategy no.;
# x is the CPU count, or (one CPU count) the strategy no. shifted by d so
# that the three metrics sit apart; a blank line between strategies
met(k, m, d) = sprintf("< %s | awk -F, -v OFS=, -v f=%d -v m=%s.%s -v one=%d -v d=%g '$1==f && $7==m && $11>0" \
    ."{print (one ? $2 + d : $5), $11, ($14>0 ? $14 : $11), $15, $2}' | sort -t, -k5,5n -k1,1g " \
    ."| awk -F, '$5!=l && NR>1{print \"\"} {l=$5; print}'", pre("summary.csv"), pf(k), m, pr(k), NCPU == 1, d)
# the time range over every panel (ns), so panels compare; the roles that
# get no panel do not stretch it
YR = NP == 0 ? "1 10" : system(pre("summary.csv")." | awk -F, -v P=' ".PANELS."' '$7 ~ /^(update_cost_p50|update_cost_p99|remote_latency_p50)[.]/ " \
    ."&& $11>0{r=$7; sub(/^[^.]*[.]/, \"\", r); if(!index(P, \" \" $1 \":\" r \" \"))next; " \
    ."if(!n++ || $14<a)a=($14>0 ? $14 : $11); if($15>b)b=$15; if($11>b)b=$11} END{print a+0, b+0}'")
NC = gcols(NP)
NR = grows(NP)
# one CPU count: a dot plot, strategies down the y axis (names in the first column)
ONE = NCPU == 1
if (ONE) { PXCW = 400; PXCH = 20 + 30 * NSTRAT; PXGX = 25; PXGY = 80; PXL = 95 } \
else { PXCW = 420; PXCH = 250; PXGX = 70; PXGY = 80; PXL = 85 }
LINES(pt, dt) = sprintf("with yerrorlines lw 1.5 pt %d ps 0.9 dt %d lc rgb variable notitle", pt, dt)
DOTS(pt) = sprintf("with xerrorbars lw 1.2 pt %d ps 1.1 lc rgb variable notitle", pt)
MKEY = ONE ? "keyentry with points pt 7 lc rgb '#303030' title 'update cost p50', " \
    ."keyentry with points pt 5 lc rgb '#303030' title 'update cost p99', " \
    ."keyentry with points pt 8 lc rgb '#303030' title 'remote latency p50'" \
    : "keyentry with linespoints lw 1.5 pt 7 dt 1 lc rgb '#303030' title 'update cost p50', " \
    ."keyentry with linespoints lw 1.5 pt 5 dt 2 lc rgb '#303030' title 'update cost p99', " \
    ."keyentry with linespoints lw 1.5 pt 8 dt 3 lc rgb '#303030' title 'remote latency p50'"
eval widen(NC, 1000)
KR = keyrows(ONE ? 3 : NSTRAT + 3, SLEN > 18 ? SLEN : 18, gridw(NC))
PXT = keytop(KR)

do for [fmt in "png svg"] {
    eval NP > 0 ? term(fmt, gridw(NC), gridh(NR)) : term(fmt, 1000, 650)
    set output NAME.".".fmt
    if (NP == 0) {
        eval nodata(TITLE, NOREC(5) ? "not recorded (stats.enabled = off: no update cost or latency was timed)" \
            : "no data (no role with an update cost in summary.csv)")
    } else {
        set multiplot title sprintf("%s of each mix's first role, %s\n%smedian over trials; bars: first to third quartile; log scale", \
            TITLE, ONE ? "per strategy" : "against the CPU count", \
            ONE ? sprintf("the run has one CPU count, %s (sweep machine.cpus to draw these against CPUs); ", word(CPUS, 1)) : "") font ",12"
        set grid xtics ytics
        do for [k=1:NP] {
            eval cell(k, NC, NR)
            set title sprintf("%s — role %s", fname(pf(k)), pr(k))
            if (ONE) {
                set logscale x 10
                unset logscale y
                eval "set xtics ".NSTICS
                set xtics out nomirror
                set mxtics 10
                set xrange [num(word(YR, 1)) / 1.5:num(word(YR, 2)) * 1.5]
                set yrange [NSTRAT + 0.6:0.4]
                eval "set ytics (".(firstcol(k, NC) ? YT : YN).") nomirror"
                set xlabel (lastrow(k, NC, NP) ? "time per completion" : "")
                P = "plot ".(haspos(P50, k) ? "met(k, 'update_cost_p50', -0.22) using 2:1:3:4:(scoli($5)) ".DOTS(7).", " : "") \
                    ."met(k, 'update_cost_p99', 0) using 2:1:3:4:(scoli($5)) ".DOTS(5) \
                    .(remote(k) ? ", met(k, 'remote_latency_p50', 0.22) using 2:1:3:4:(scoli($5)) ".DOTS(8) : "")
            } else {
                eval cpuaxis
                set logscale y 10
                eval "set ytics ".NSTICS
                set ytics out nomirror
                set mytics 10
                set yrange [num(word(YR, 1)) / 1.5:num(word(YR, 2)) * 1.5]
                set xlabel (lastrow(k, NC, NP) ? "simulated CPUs" : "")
                set ylabel (firstcol(k, NC) ? "time per completion" : "")
                P = "plot ".(haspos(P50, k) ? "met(k, 'update_cost_p50', 0) using 1:2:3:4:(scoli($5)) ".LINES(7, 1).", " : "") \
                    ."met(k, 'update_cost_p99', 0) using 1:2:3:4:(scoli($5)) ".LINES(5, 2) \
                    .(remote(k) ? ", met(k, 'remote_latency_p50', 0) using 1:2:3:4:(scoli($5)) ".LINES(8, 3) : "")
            }
            unset key
            eval P
        }
        eval keystrip(NR, KR)
        eval "plot NaN, ".(ONE ? "" : SKEY.", ").MKEY
        unset multiplot
    }
    unset output
}
