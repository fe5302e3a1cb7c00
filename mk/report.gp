# mk/report.gp - report.png: test accuracy of each type (and overall,
# thick) by loop iteration.  Variables: data (iteration, then a column per
# type, "all" first, with a header line), out, last.
set terminal pngcairo size 900,560 font ",10" noenhanced
set output out
set datafile separator "\t"
set key autotitle columnheader outside right center
set title "Test accuracy by loop iteration"
set xlabel "iteration (0 = baseline)"
set ylabel "accuracy (%)"
set xrange [-0.2:last + 0.2]
set xtics 1
set yrange [0:100]
set grid ytics
stats data skip 1 using 1 nooutput
plot for [c = 2:STATS_columns] data using 1:c with linespoints \
	lw (c == 2 ? 4 : 1.5) pt 7 ps 0.8
