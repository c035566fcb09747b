# Plots bench/run.py's medians: req/s (top) and server CPU per request (bottom). Both axes are
# logarithmic: node_exporter is two orders of magnitude away from the others on each.
# Called as:
#   gnuplot -e "datafile='..'; outfile='..'; nconns=3; ntargets=5; plottitle='..'" bench/plot.gp
# datafile: header line, then one row per target: "name" rps_c1 .. rps_cN cpu_c1 .. cpu_cN.
set terminal pngcairo size 1200,900 font "sans,10" noenhanced
set output outfile
set datafile missing "NaN"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set key top right
set grid ytics
set xtics nomirror
set xrange [-0.6:ntargets-0.4]
set logscale y
set multiplot layout 2,1 title plottitle font "sans,12"

set title "Requests per second (median; higher is better)"
set ylabel "req/s (log)"
set format y "%.0s%c"
plot for [i=2:1+nconns] datafile using i:xtic(1) title columnheader(i)

set title "Server CPU time per request (median; lower is better)"
set ylabel "CPU us / request (log)"
set format y "%g"
plot for [i=2+nconns:1+2*nconns] datafile using i:xtic(1) title columnheader(i)

unset multiplot
