# Overhead breakdown of the three ways of serving the network (experiments/net/compare):
# instructions per packet of each configuration, stacked: native PDs, pinion's kernel, the
# guest's kernel, the guest's user space.
# Variables: data (results/net-compare/compare.csv), out, note, title.
load dir."/common.gp"
set key noenhanced
set title title noenhanced
set style data histogram
set style histogram rowstacked
set style fill solid 0.85 border -1
set boxwidth 0.7
set key top left
set ylabel "instructions per packet"
set yrange [0:*]
set xtics rotate by -30 noenhanced
do for [fmt in "png svg"] {
  if (fmt eq "png") { set terminal pngcairo size 1100,700 font ",11" } \
  else { set terminal svg size 1100,700 dynamic font ",11" }
  set output out.".".fmt
  plot data using "native_pds":xtic(1) title "native PDs" lc rgb "#1f77b4", \
       "" using "pinion_kernel" title "pinion kernel" lc rgb "#ff7f0e", \
       "" using "guest_kernel" title "guest kernel" lc rgb "#2ca02c", \
       "" using "guest_user" title "guest user" lc rgb "#9467bd"
  unset output
}
