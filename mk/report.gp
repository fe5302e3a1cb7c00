# mk/report.gp - report.png: test accuracy by loop iteration, one small
# panel per question type on the same axes, each point with its 95% Wilson
# interval as a band, and overall accuracy faint in every panel for
# reference.  Variables: data (one block per type, "all" first, separated
# by two blank lines: iter, acc, lo, hi in %), titles (a file: two lines
# for each panel, the type and its gain, in block order), out, last, title.
set terminal pngcairo size 1100,560 font ",9" noenhanced
set output out
set datafile separator "\t"
ntypes = int(system(sprintf("wc -l < '%s'", titles))) / 2
line(i) = system(sprintf("sed -n %dp '%s'", i, titles))
cols = 5
rows = int((ntypes + cols - 1) / cols)
sub = "blue band: the 95% interval of each point; grey: all types" . \
	(last > 0 ? sprintf("; under each name: the change from iteration 0 to %d, 95%% interval", last) : "")
set multiplot layout rows, cols title title . "\n" . sub font ",10" margins 0.05, 0.99, 0.08, 0.86 spacing 0.012, 0.12
set xrange [-0.25:last + 0.25]
set xtics 1 scale 0.5
# 0..100 with room above and below, so neither end sits on the frame
set yrange [-4:106]
set ytics 0, 25, 100 scale 0.5
set grid ytics lc rgb "#dddddd" lw 1 dt solid
set key off
set border 3 lc rgb "#888888"
set tics nomirror
band = "#9ecae1"
line = "#08519c"
ref = "#bbbbbb"
do for [k = 1:ntypes] {
	set title line(2 * k - 1) . "\n" . line(2 * k) offset 0, -0.6
	# only the left column and the bottom row carry tic labels
	if ((k - 1) % cols == 0) { set format y "%g%%" } else { set format y "" }
	if (k > ntypes - cols) { set format x "%g"; set xlabel "iteration" offset 0, 0.5 } else { set format x ""; unset xlabel }
	# a band needs two iterations; at iteration 0 alone, an error bar
	plot data index (k - 1) using 1:3:4 with filledcurves lc rgb band fs transparent solid 0.5 noborder, \
		'' index (k - 1) using 1:(last == 0 ? $2 : 1/0):3:4 with yerrorbars lc rgb band lw 4 pt 7 ps 0, \
		'' index 0 using 1:2 with lines lc rgb ref lw 2, \
		'' index (k - 1) using 1:2 with linespoints lc rgb line lw 2 pt 7 ps 0.6
}
unset multiplot
