# Per-core cost per layout: each layout's measured instructions per packet on each core
# (points), its bottleneck core (line), its total over all cores (line), and place's
# predicted bottleneck; layouts ordered by core count, then by bottleneck cost.
# Variables: data (per-core CSV of experiments/report/sweep-report), out, note, title,
# bounds (a gnuplot file of separators between core counts, optional).
load dir."/common.gp"
set title title noenhanced
set xlabel "layout (ordered by cores in use, then by the bottleneck core's cost)"
set ylabel "instructions per packet"
set yrange [0:*]
set xrange [0:*]
set key inside top center horizontal maxrows 2 noenhanced
set offsets 0, 0, graph 0.22, 0
set autoscale xfixmax
if (exists("bounds")) load bounds
do for [fmt in "png svg"] {
  if (fmt eq "png") { set terminal pngcairo size 1400,750 font ",11" } \
  else { set terminal svg size 1400,750 dynamic font ",11" }
  set output out.".".fmt
  plot data using "index":"total" with lines lw 1.5 lc rgb "#999999" title "total (all cores)", \
       "" using "index":"bottleneck" with lines lw 2 lc rgb "#d62728" title "bottleneck core", \
       "" using "index":"pred_bottleneck" with lines lw 1 dt 2 lc rgb "#000000" \
          title "bottleneck, predicted by place", \
       for [c=0:3] "" using "index":"core".c with points pt 7 ps 0.45 lc c+1 title "core ".c
  unset output
}
