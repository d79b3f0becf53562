# Batching policies: per core count, the mean over the same layouts of SGIs per packet
# (left) and of the bottleneck core's and all cores' instructions per packet (right).
# Variables: data (the file name before ".POLICY.csv": one CSV per policy with columns
# cores,sgis_pp,bottleneck_ipp,total_ipp), policies (space-separated), out, note, title.
load dir."/common.gp"
set key top left noenhanced
set xlabel "cores in use"
set xtics 1
set xrange [0.8:4.2]
file(p) = data.".".p.".csv"
do for [fmt in "png svg"] {
  if (fmt eq "png") { set terminal pngcairo size 1400,650 font ",11" } \
  else { set terminal svg size 1400,650 dynamic font ",11" }
  set output out.".".fmt
  set multiplot layout 1,2 title title noenhanced
  set ylabel "SGIs per packet"
  set yrange [0:*]
  plot for [i=1:words(policies)] file(word(policies, i)) using "cores":"sgis_pp" \
          with linespoints lw 2 pt 7 lc i title word(policies, i)
  set ylabel "instructions per packet"
  plot for [i=1:words(policies)] file(word(policies, i)) using "cores":"bottleneck_ipp" \
          with linespoints lw 2 pt 7 lc i title word(policies, i)." bottleneck", \
       for [i=1:words(policies)] file(word(policies, i)) using "cores":"total_ipp" \
          with linespoints lw 1 dt 2 pt 6 lc i title word(policies, i)." total"
  unset multiplot
  unset output
}
