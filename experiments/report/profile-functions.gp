# The guest kernel's largest functions of one configuration (experiments/profile):
# instructions per I/O, largest on top, coloured by subsystem.
# Variables: data (OUT/top-functions-LABEL.csv), out, note, title, k (rows).
load dir."/common.gp"
set title title noenhanced
set key noenhanced
set style fill solid 0.85 border -1
set xlabel "instructions per I/O"
set xrange [0:*]
set yrange [k + 0.5:0.5]
set ytics 1 font ",9" noenhanced
unset grid
set grid xtics lc rgb "#dddddd"
set key bottom right opaque box lc rgb "#cccccc"
set bmargin 5
ids = "virtio block netcore skb socket syscall uio pinion sched timer irq other"
colours = "#1f77b4 #bcbd22 #2ca02c #98df8a #ff7f0e #ffbb78 #c5b0d5 #9467bd #8c564b #c49c94 #e377c2 #7f7f7f"
do for [i=1:12] { set linetype 100 + i lc rgb word(colours, i) }
height = 160 + 18 * k
do for [fmt in "png svg"] {
  if (fmt eq "png") { set terminal pngcairo size 1000,height font ",11" } \
  else { set terminal svg size 1000,height dynamic font ",11" }
  set output out.".".fmt
  plot data using (column("instructions_per_io") / 2):"rank": \
            (column("instructions_per_io") / 2):(0.4):(100 + column("subsystem_index")): \
            ytic(stringcolumn("function")) \
            with boxxyerror lc variable notitle, \
       for [i=1:12] NaN with boxes lc 100 + i title word(ids, i)
  unset output
}
