# SPDX-License-Identifier: GPL-2.0
# gnuplot -e "in='X.timeline'; out='X.png'; name='X'" plot.gp
# One line per column of the hpsim --timeline file: hit ratio over trace time.
set terminal pngcairo size 900,500 noenhanced
set output out
set datafile separator "\t"
set datafile missing "-"
set key autotitle columnhead outside right
set title name." : fast-tier hit ratio per interval"
set xlabel "trace time (s)"
set ylabel "hit ratio"
set yrange [0:1.02]
set grid
ncol = int(system("head -1 '".in."' | awk -F'\\t' '{print NF}'"))
plot for [i=2:ncol] in using 1:i with linespoints pointsize 0.5 lw 2
