# mk/ablation.gp - ablation.png: test accuracy by loop iteration under two
# strategies (pooled over the seeds), one small panel per type on the same
# axes, each point with its 95% Wilson interval as a band.  Variables: data
# (a block per type, "all" first, two blank lines apart: iter, then acc,
# lo, hi in % of the first strategy and of the second), titles (a file, two
# lines a panel), out, last, first, second, nseeds.
set terminal pngcairo size 1100,580 font ",9" noenhanced
set output out
set datafile separator "\t"
ntypes = int(system(sprintf("wc -l < '%s'", titles))) / 2
line(i) = system(sprintf("sed -n %dp '%s'", i, titles))
cols = 5
rows = int((ntypes + cols - 1) / cols)
c1 = "#08519c"
c2 = "#e6550d"
head = sprintf("Test accuracy by loop iteration: %s (blue) against %s (orange), %d seed%s pooled", \
	first, second, nseeds, nseeds > 1 ? "s" : "")
sub = sprintf("bands: the 95%% interval of each point; under each name: %s - %s at iteration %d, 95%% interval", \
	first, second, last)
set multiplot layout rows, cols title head . "\n" . sub font ",10" margins 0.05, 0.99, 0.08, 0.86 spacing 0.012, 0.12
set xrange [-0.25:last + 0.25]
set xtics 1 scale 0.5
set yrange [-4:106]
set ytics 0, 25, 100 scale 0.5
set grid ytics lc rgb "#dddddd"
set key off
set border 3 lc rgb "#888888"
set tics nomirror
do for [k = 1:ntypes] {
	set title line(2 * k - 1) . "\n" . line(2 * k) offset 0, -0.6
	if ((k - 1) % cols == 0) { set format y "%g%%" } else { set format y "" }
	if (k > ntypes - cols) { set format x "%g"; set xlabel "iteration" offset 0, 0.5 } else { set format x ""; unset xlabel }
	plot data index (k - 1) using 1:6:7 with filledcurves lc rgb c2 fs transparent solid 0.2 noborder, \
		'' index (k - 1) using 1:3:4 with filledcurves lc rgb c1 fs transparent solid 0.2 noborder, \
		'' index (k - 1) using 1:5 with linespoints lc rgb c2 lw 2 pt 5 ps 0.6, \
		'' index (k - 1) using 1:2 with linespoints lc rgb c1 lw 2 pt 7 ps 0.6
}
unset multiplot
