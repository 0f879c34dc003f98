# timeline.gp -- how the two sides of a mix interfere over time: each
# role's operations per second, pool pages per second and kernel
# shootdowns per second, sample by sample through the measured window.
# caption: Over time: each role's operations, pool pages and kernel shootdowns per second, interval by interval, in the mixes that churn pool pages beside other roles; the median trial of each strategy at the largest CPU count.
# order: 30
# Columns: the facets whose mix runs several roles and churns pool pages
# (else those that churn pool pages, else every facet), at most four.
# Rows: one series each, on one y scale across the row.  Lines: one per
# strategy, its median trial (by the first role's operations).
# Reads timeline.csv (..., trial, t_s, series, value).  Writes timeline.png/.svg.
load "common.gnuplot"
NAME = "timeline"
TITLE = "Over time" . VCLK
HAVE = rows("timeline.csv") > 0 && NFACET > 0
# the samples of each point's median trial at CMAX, as
# facet no., strategy no., t_s, series, value
MED = "awk -F, -v OFS=, -v c=".sprintf("%d", CMAX)." 'FNR==1{fn++; next} " \
    ."fn==1{if(!($4 in F))F[$4]=++nf; if(!($2 in S))S[$2]=++ns; next} $3!=c{next} " \
    ."fn==2{if(!($1 in r) && $7 ~ /^ops_per_s[.]/)r[$1]=$7; if($7==r[$1]){k=$1 SUBSEP $5; if(!(k in sum))n[$1]++; sum[k]+=$8}; next} " \
    ."!($1 in m){m[$1]=-1; if(n[$1]){i=0; for(k in sum){split(k, a, SUBSEP); if(a[1]==$1){t[++i]=a[2]; v[i]=sum[k]}} " \
    ."for(x=2;x<=i;x++)for(y=x;y>1 && v[y]<v[y-1];y--){z=v[y];v[y]=v[y-1];v[y-1]=z;z=t[y];t[y]=t[y-1];t[y-1]=z} m[$1]=t[int((i+1)/2)]}} " \
    ."$5==m[$1] || m[$1]==-1 && $5==0{print F[$4]+0, S[$2]+0, $6, $7, $8}' summary.csv timeline.csv timeline.csv"
# per facet: does it churn pool pages, how many roles does it run
FINFO = !HAVE ? "" : system(MED." | awk -F, '$4==\"poolpages_per_s\" && $5>0{p[$1]=1} $4 ~ /^ops_per_s[.]/ && !(($1 FS $4) in s){s[$1 FS $4]; r[$1]++} " \
    ."END{for(f in r) print f, (p[f]+0), r[f]}' | sort -n | tr '\\n' ' '")
# the columns: facets with pool pages and several roles, else with pool pages, else all; at most 4
pick(want) = system(sprintf("echo '%s' | awk '{for(i=1;i<=NF;i+=3) if(%s) printf \"%%s \", $i}'", FINFO, want))
COLS = pick("$(i+1) && $(i+2)>1")
if (words(COLS) == 0) { COLS = pick("$(i+1)") }
if (words(COLS) == 0) { COLS = pick("1") }
NCOLS = words(COLS) > 4 ? 4 : words(COLS)
CL = ""
do for [i=1:NCOLS] { CL = CL.word(COLS, i)." " }
# the rows: the roles' ops_per_s, then pool pages and kernel shootdowns where
# any column has them; all shootdowns when neither, if they were counted
# (statistics off: timeline.csv has no such row, and no row is drawn)
SERIES = !HAVE || NCOLS == 0 ? "" : system(MED." | awk -F, -v cl='".CL."' 'BEGIN{split(cl, a, \" \"); for(i in a) c[a[i]]} " \
    ."($1 in c) && !($4 in s){s[$4]; o[++n]=$4} ($1 in c) && $5>0{nz[$4]} " \
    ."END{for(i=1;i<=n;i++) if(o[i] ~ /^ops_per_s[.]/) printf \"%s \", o[i]; " \
    ."if(\"poolpages_per_s\" in nz) printf \"poolpages_per_s \"; if(\"kernel_flushes_per_s\" in nz) printf \"kernel_flushes_per_s \"; " \
    ."if(!(\"poolpages_per_s\" in nz) && !(\"kernel_flushes_per_s\" in nz) && (\"flushes_per_s\" in s)) printf \"flushes_per_s\"}'")
NROWS = words(SERIES)
HAVE = HAVE && NCOLS > 0 && NROWS > 0
rowlabel(s) = s eq "poolpages_per_s" ? "pool pages/s (allocated + freed)" : \
    s eq "kernel_flushes_per_s" ? "kernel shootdowns/s" : s eq "flushes_per_s" ? "shootdowns/s" : \
    s[1:10] eq "ops_per_s." ? sprintf("role %s: operations/s", s[11:]) : s
# tl(f, s): facet f's series s, as strategy no., t_s; a blank line between strategies
tl(f, s) = sprintf("< %s | awk -F, -v OFS=, -v f=%s -v s=%s '$1==f && $4==s{print $2, $3, $5}' | sort -t, -k1,1n -k2,2g " \
    ."| awk -F, '$1!=l && NR>1{print \"\"} {l=$1; print}'", MED, f, s)
# ymax(s): the row's largest value over its columns
ymax(s) = num(system(sprintf("%s | awk -F, -v cl='%s' -v s=%s 'BEGIN{split(cl, a, \" \"); for(i in a) c[a[i]]} " \
    ."($1 in c) && $4==s && $5>m{m=$5} END{print m+0}'", MED, CL, s)))
TMAX = !HAVE ? 1 : num(system(MED." | awk -F, '$3>m{m=$3} END{print m+0}'"))
PXCW = 430; PXCH = 150; PXGY = 50; PXGX = 55; PXL = 90
eval widen(NCOLS, 900)
KR = keyrows(NSTRAT, SLEN, gridw(NCOLS))
PXT = keytop(KR)

do for [fmt in "png svg"] {
    eval HAVE ? term(fmt, gridw(NCOLS), gridh(NROWS)) : term(fmt, 1000, 650)
    set output NAME.".".fmt
    if (!HAVE) {
        eval nodata(TITLE, "no data (no interval samples: trials no longer than experiment.interval?)")
    } else {
        set multiplot title sprintf("%s, at %d simulated CPUs: the median trial of each strategy, one sample per interval\n" \
            ."columns: the mixes; rows: what each side did", TITLE, CMAX) font ",12"
        set grid xtics ytics
        set xrange [0:TMAX * 1.03]
        set yrange [0:*]
        set xtics out nomirror
        set ytics out nomirror
        do for [r=1:NROWS] {
            S = word(SERIES, r)
            Y = ymax(S)
            set yrange [0:Y > 0 ? Y * 1.1 : 1]
            eval linaxis("y", Y * 1.05)
            set ytics out nomirror
            do for [c=1:NCOLS] {
                k = (r - 1) * NCOLS + c
                eval cell(k, NCOLS, NROWS)
                set title (r == 1 ? fname(int(word(CL, c))) : "") font ",11"
                set ylabel (c == 1 ? rowlabel(S) : "")
                set xlabel (r == NROWS ? "time in the measured window (s)" : "")
                set format x (r == NROWS ? "%g" : "")
                unset key
                plot tl(word(CL, c), S) using 2:3:(scoli($1)) with linespoints lw 2 pt 7 ps 0.6 lc rgb variable notitle
            }
        }
        eval keystrip(NROWS, KR)
        eval "plot NaN, ".SKEY
        unset multiplot
    }
    unset output
}
