# SPDX-License-Identifier: GPL-2.0-only
# The firewall benchmark's plot (make bench-fw): ns per frame against the
# number of rules, log-log, tandem and nftables' two forms, IPv4 and IPv6.
#   gnuplot -e "dat='build/fw-bench.dat'; out='Documentation/firewall-bench.png'" tools/bench/fw_bench.gp
set terminal pngcairo size 900,560 font ",11"
set output out
set title "Dropping a frame from a blocked source: tandem (XDP) against nftables (netdev ingress)"
set xlabel "rules (or set elements)"
set ylabel "ns per frame (min)"
set logscale xy
set key top left
set grid
set datafile missing "NaN"
plot dat using 1:2 with linespoints lw 2 pt 7 title "tandem, IPv4", \
     dat using 1:5 with linespoints lw 2 pt 5 title "tandem, IPv6", \
     dat using 1:3 with linespoints dt 2 pt 7 title "nft rules, IPv4", \
     dat using 1:6 with linespoints dt 2 pt 5 title "nft rules, IPv6", \
     dat using 1:4 with linespoints dt 3 pt 7 title "nft set, IPv4", \
     dat using 1:7 with linespoints dt 3 pt 5 title "nft set, IPv6"
