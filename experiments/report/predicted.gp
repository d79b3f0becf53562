# Predicted against measured instructions per packet: every core of every layout, and each
# layout's bottleneck core, per system; the diagonal is a perfect prediction, the dashed
# lines are +-20%.
# Variables: data (per-core points CSV: system,...,measured,predicted), necks (bottleneck
# points CSV), systems (space-separated system labels), rhos (Spearman's rho of each
# system's bottleneck, in the same order), out, note, title. Both axes logarithmic.
load dir."/common.gp"
set key noenhanced
set title title noenhanced
set xlabel "measured instructions per packet"
set ylabel "predicted instructions per packet"
set logscale xy
set xrange [100:20000]
set yrange [100:20000]
set size ratio -1
set key bottom right
sel(s) = (strcol("system") eq s) ? 1 : NaN
do for [fmt in "png svg"] {
  if (fmt eq "png") { set terminal pngcairo size 900,900 font ",11" } \
  else { set terminal svg size 900,900 dynamic font ",11" }
  set output out.".".fmt
  plot [100:20000] x with lines lc rgb "#777777" title "predicted = measured", \
       1.2*x with lines dt 2 lc rgb "#bbbbbb" notitle, \
       0.8*x with lines dt 2 lc rgb "#bbbbbb" notitle, \
       for [i=1:words(systems)] data using "measured":(column("predicted") * \
          sel(word(systems, i))) with points pt 7 ps 0.35 lc i \
          title word(systems, i)." (each core)", \
       for [i=1:words(systems)] necks using "measured":(column("predicted") * \
          sel(word(systems, i))) with points pt 6 ps 0.9 lw 1.5 lc i \
          title word(systems, i)." (bottleneck core, Spearman ρ ".word(rhos, i).")"
  unset output
}
