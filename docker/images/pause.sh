#!/bin/sh
# The pod sandbox's process: holds the pod's namespaces and does nothing else until it is
# told to stop (a shell ignores SIGTERM as PID 1 unless it traps it).
trap 'exit 0' TERM INT
while :; do
    sleep 3600 &
    wait $!
done
