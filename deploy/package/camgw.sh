#!/bin/sh
# /usr/bin/camgw: runs the gateway's CLI with Debian's node (package nodejs).
exec /usr/bin/node /opt/camgw/gateway/bin/camgw.js "$@"
