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
# overall in black; the types in nine colours that tell apart (gnuplot's
# default cycle has eight, so two types would share one)
array colour[10] = [0x000000, 0xe6194b, 0x3cb44b, 0x4363d8, 0xf58231, 0x911eb4, \
	0x42d4f4, 0xf032e6, 0x9a6324, 0x808000]
plot for [c = 2:STATS_columns] data using 1:c with linespoints \
	lw (c == 2 ? 4 : 1.5) lc rgb colour[(c - 2) % 10 + 1] pt (c == 2 ? 7 : 6 + c % 6) ps 0.8
