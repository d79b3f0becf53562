# Hidden by parallelism: for each layout, the bottleneck core's instructions per packet as
# a fraction of the one-core native cost (the whole native echo on one core), by the cores
# the layout uses; the line joins the best layout of each core count. Below 1: the busiest
# core does less than one core did for the native echo.
# Variables: data (hidden CSV: system,cores,layout,fraction,jitter), best (best CSV),
# systems (space-separated labels), out, note, title.
load dir."/common.gp"
set key noenhanced
set title title noenhanced
set xlabel "cores in use"
set ylabel "bottleneck core / one-core native cost"
set xrange [0.5:4.5]
set xtics 1
set yrange [0:*]
set key top right
sel(s) = (strcol("system") eq s) ? 1 : NaN
do for [fmt in "png svg"] {
  if (fmt eq "png") { set terminal pngcairo size 1000,700 font ",11" } \
  else { set terminal svg size 1000,700 dynamic font ",11" }
  set output out.".".fmt
  plot 1 with lines lc rgb "#777777" dt 2 title "one-core native", \
       for [i=1:words(systems)] data using (column("cores") + column("jitter")): \
          (column("fraction") * sel(word(systems, i))) with points pt 7 ps 0.4 lc i \
          title word(systems, i)." (each layout)", \
       for [i=1:words(systems)] best using "cores":(column("fraction") * \
          sel(word(systems, i))) with linespoints lw 2 pt 5 ps 1 lc i \
          title word(systems, i)." (best layout)"
  unset output
}
