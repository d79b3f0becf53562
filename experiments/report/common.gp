# Shared settings of the report's plots: CSV input with a header row, empty cells missing.
# Each plot script is run as: gnuplot -e "data='...'; out='BASE'; note='...'" SCRIPT.gp
# and writes BASE.png and BASE.svg; `note` (the command behind the data) goes under the plot.
set datafile separator ","
set datafile columnheaders
set grid ytics lc rgb "#dddddd"
set border 3
set tics nomirror
set key top left opaque box lc rgb "#cccccc"
set bmargin 7
if (!exists("note")) note = ""
set label 99 note at screen 0.01, screen 0.055 left font ",8" tc rgb "#555555" noenhanced
