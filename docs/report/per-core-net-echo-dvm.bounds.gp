set arrow from 0.5, graph 0 to 0.5, graph 1 nohead lc rgb '#bbbbbb'
set arrow from 1.5, graph 0 to 1.5, graph 1 nohead lc rgb '#bbbbbb'
set label '2 cores' at 33.0, graph 0.02 center
set arrow from 64.5, graph 0 to 64.5, graph 1 nohead lc rgb '#bbbbbb'
set label '3 cores' at 113.5, graph 0.02 center
set arrow from 162.5, graph 0 to 162.5, graph 1 nohead lc rgb '#bbbbbb'
set label '4 cores' at 202.0, graph 0.02 center
