# The network driver VM's optimisations (experiments/net/optimise): for each configuration
# and layout, the instructions per packet in all (every core) and on the busiest core, the
# median of N runs with the lowest and highest run as an error bar. A polling vCPU's
# waiting is left out (ablation.md shows it).
# Variables: data (ablation-plot.csv), out, note; title and ylabel (experiments/blk/compare
# draws its own figures with it).
load dir."/common.gp"
set key noenhanced
if (!exists("title")) title = "Network driver VM: instructions per echoed packet"
if (!exists("ylabel")) ylabel = "instructions per packet"
set title title noenhanced
set style data histogram
set style histogram errorbars gap 2 lw 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set key top right
set ylabel ylabel
set yrange [0:*]
set xtics rotate by -35 noenhanced font ",9"
set bmargin 11
do for [fmt in "png svg"] {
  if (fmt eq "png") { set terminal pngcairo size 1300,750 font ",11" } \
  else { set terminal svg size 1300,750 dynamic font ",11" }
  set output out.".".fmt
  plot data using "total":"total_low":"total_high":xtic(1) title "all cores" lc rgb "#1f77b4", \
       "" using "neck":"neck_low":"neck_high" title "busiest core" lc rgb "#ff7f0e"
  unset output
}
