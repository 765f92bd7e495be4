#!/bin/sh
# An HTTP server for tests: every path answers "hello from POD_IP version V", so a client
# sees which pod served it; /healthz answers "ok". PORT (default 80) and VERSION (the image
# tag) come from the environment.
port="${PORT:-80}"
ip="$(ip -4 -o addr show dev eth0 2>/dev/null | awk '{ split($4, a, "/"); print a[1] }')"
[ -n "$ip" ] || ip="$(hostname)"
mkdir -p /www
echo "hello from $ip version $VERSION" >/www/index.html
echo "ok" >/www/healthz
# Unknown paths get the same page (busybox httpd's error page for 404).
printf 'E404:index.html\n' >/etc/httpd.conf
echo "serving on port $port as $ip (version $VERSION)"
trap 'echo "stopping"; exit 0' TERM INT
httpd -f -p "$port" -h /www -c /etc/httpd.conf &
wait $!
