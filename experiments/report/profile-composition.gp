# Where each configuration's instructions per I/O go (experiments/profile): native PDs,
# pinion's kernel (for native PDs, for vCPUs, other), and the guest kernel split by
# subsystem, then the guest's user space; one stacked bar per label.
# Variables: data (OUT/composition.csv), out, note, title.
load dir."/common.gp"
set key noenhanced
set title title noenhanced
set style data histogram
set style histogram rowstacked
set style fill solid 0.85 border -1
set boxwidth 0.6
set key outside right top vertical invert
set ylabel "instructions per I/O"
set yrange [0:*]
set xtics noenhanced
array colours[12] = ["#1f77b4", "#aec7e8", "#ff7f0e", "#ffbb78", "#17becf", "#8c564b", "#2ca02c", \
                     "#d62728", "#bcbd22", "#9467bd", "#7f7f7f", "#e377c2"]
array titles[12] = ["native PDs", "pinion kernel: PDs", "pinion kernel: vCPUs", \
                    "pinion kernel: other", "guest: virtio", "guest: block layer", \
                    "guest: netcore + skb", \
                    "guest: socket", "guest: syscalls + UIO", "guest: pinion", \
                    "guest: other", "guest: user"]
do for [fmt in "png svg"] {
  if (fmt eq "png") { set terminal pngcairo size 1100,650 font ",11" } \
  else { set terminal svg size 1100,650 dynamic font ",11" }
  set output out.".".fmt
  plot for [i=1:12] data using (column(i + 2)):xtic(1) title titles[i] lc rgb colours[i]
  unset output
}
