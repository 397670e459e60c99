#!/bin/bash
# Two "remote" libvirt hosts on this machine, each a libvirtd in its own network namespace
# (veth pair, own address) and its own mount namespace (own /run/libvirt, /var/lib/libvirt,
# /etc/libvirt, ...: its own sockets, QEMU driver state and guests), reached over
#   qemu+tcp://<addr>/system             libvirtd --listen, auth_tcp = "none" (rig only: the
#                                        address exists only on this machine's veth pairs)
#   qemu+ssh://root@<addr>/system?no_tty=1   an sshd in the same namespaces, key made here;
#                                        libvirt runs virt-ssh-helper on the far side
#   qemu+tls://<addr>/system             libvirtd's TLS listener, certificates from a rig CA;
#                                        the client's are libvirt's default /etc/pki paths
# The client's key and the hosts' public keys are wired up in /etc/ssh/ssh_config.d/atp-rig.conf
# (host URIs may not name a keyfile: see hosts/uris.py). Leaves the machine's own libvirtd alone.
# Idempotent: what already runs is kept. Writes $STATE/hosts.json for the tests.
# Stop: rig/remote-hosts.sh stop
set -euo pipefail
STATE=${ATP_REMOTE_STATE:-/var/lib/atp-rig/remote}
HOSTS="rh1:10.231.61 rh2:10.231.62"   # name:subnet (host side .1, namespace side .2)
BINDS="run:/run/libvirt lib:/var/lib/libvirt log:/var/log/libvirt cache:/var/cache/libvirt etc:/etc/libvirt"

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

stop_host() {
  local name=$1 d=$STATE/$1 ns=atp-$1
  for pidfile in "$d/sshd.pid" "$d/libvirtd.pid"; do
    if alive "$pidfile"; then
      kill -TERM "$(cat "$pidfile")"
      for _ in $(seq 1 50); do alive "$pidfile" || break; sleep 0.1; done
      alive "$pidfile" && kill -KILL "$(cat "$pidfile")"
    fi
    rm -f "$pidfile"
  done
  # QEMU processes of this host's guests (the daemon leaves them running, as on a real host)
  for pidfile in "$d"/run/qemu/*.pid; do
    [ -f "$pidfile" ] && kill -KILL "$(cat "$pidfile")" 2>/dev/null || true
    rm -f "$pidfile"
  done
  ip netns del "$ns" 2>/dev/null || true
  echo "remote host $name stopped"
}

if [ "${1:-}" = stop ]; then
  for entry in $HOSTS; do stop_host "${entry%%:*}"; done
  rm -f /etc/ssh/ssh_config.d/atp-rig.conf
  exit 0
fi

for tool in ip unshare nsenter libvirtd /usr/sbin/sshd ssh-keygen virt-ssh-helper; do
  command -v "$tool" >/dev/null || { echo "rig/remote-hosts: $tool missing (run rig/install.sh)" >&2; exit 1; }
done
mkdir -p "$STATE" /run/sshd
chmod 0755 /run/sshd
[ -f "$STATE/id_ed25519" ] || ssh-keygen -q -t ed25519 -N "" -C atp-rig-worker -f "$STATE/id_ed25519"
cp "$STATE/id_ed25519.pub" "$STATE/authorized_keys"
chmod 0600 "$STATE/id_ed25519" "$STATE/authorized_keys"

# TLS: a rig CA, a client certificate in libvirt's default places for root (only ever ours:
# an existing CA that is not a rig CA is left alone and TLS is not set up)
PKI=$STATE/pki
mkdir -p "$PKI"
if [ ! -f "$PKI/cacert.pem" ]; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/O=ATP rig/CN=ATP rig CA" \
    -keyout "$PKI/cakey.pem" -out "$PKI/cacert.pem" 2>/dev/null
fi
if [ ! -f "$PKI/clientcert.pem" ]; then
  openssl req -newkey rsa:2048 -nodes -subj "/O=ATP rig/CN=atp-rig-worker" \
    -keyout "$PKI/clientkey.pem" -out "$PKI/client.csr" 2>/dev/null
  openssl x509 -req -in "$PKI/client.csr" -CA "$PKI/cacert.pem" -CAkey "$PKI/cakey.pem" \
    -CAcreateserial -days 3650 -out "$PKI/clientcert.pem" \
    -extfile <(printf 'extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature,keyEncipherment\n') 2>/dev/null
fi
tls=1
rig_ca() { openssl x509 -noout -subject -in "$1" 2>/dev/null | grep -q "CN *= *ATP rig CA"; }
if [ -f /etc/pki/CA/cacert.pem ] && ! rig_ca /etc/pki/CA/cacert.pem; then
  echo "rig/remote-hosts: /etc/pki/CA/cacert.pem is not the rig's: qemu+tls not set up" >&2
  tls=0
else
  install -D -m 0644 "$PKI/cacert.pem" /etc/pki/CA/cacert.pem
  install -D -m 0644 "$PKI/clientcert.pem" /etc/pki/libvirt/clientcert.pem
  install -D -m 0600 "$PKI/clientkey.pem" /etc/pki/libvirt/private/clientkey.pem
fi

known=""
ssh_conf=""
json=""
for entry in $HOSTS; do
  name=${entry%%:*} net=${entry##*:}
  d=$STATE/$name ns=atp-$name hveth=atp-$name-h addr=$net.2
  mkdir -p "$d/ssh"
  for b in $BINDS; do mkdir -p "$d/${b%%:*}"; done
  # no virtlogd (stdio to files), no per-domain mount namespace (fails where / is no mount point)
  printf 'stdio_handler = "file"\nnamespaces = []\n' > "$d/etc/qemu.conf"
  if [ ! -f "$d/pki/servercert.pem" ]; then
    mkdir -p "$d/pki"
    openssl req -newkey rsa:2048 -nodes -subj "/O=ATP rig/CN=$addr" \
      -keyout "$d/pki/serverkey.pem" -out "$d/pki/server.csr" 2>/dev/null
    openssl x509 -req -in "$d/pki/server.csr" -CA "$PKI/cacert.pem" -CAkey "$PKI/cakey.pem" \
      -CAcreateserial -days 3650 -out "$d/pki/servercert.pem" -extfile <(printf \
      'subjectAltName=IP:%s\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment\n' \
      "$addr") 2>/dev/null
  fi
  cat > "$d/libvirtd.conf.new" <<EOF
listen_tls = $tls
key_file = "$d/pki/serverkey.pem"
cert_file = "$d/pki/servercert.pem"
ca_file = "$PKI/cacert.pem"
listen_tcp = 1
listen_addr = "$addr"
auth_tcp = "none"
unix_sock_group = "root"
keepalive_interval = 5
keepalive_count = 5
EOF
  [ -f "$d/ssh/host_ed25519" ] || ssh-keygen -q -t ed25519 -N "" -C "atp-$name" -f "$d/ssh/host_ed25519"
  cat > "$d/sshd_config" <<EOF
ListenAddress $addr
Port 22
HostKey $d/ssh/host_ed25519
PidFile $d/sshd.pid
AuthorizedKeysFile $STATE/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
ClientAliveInterval 5
ClientAliveCountMax 3
EOF

  # the network: a namespace with a veth pair, host side $net.1, namespace side $net.2 (eth0)
  ip netns add "$ns" 2>/dev/null || true
  if ! ip link show "$hveth" >/dev/null 2>&1; then
    ip link add "$hveth" type veth peer name eth0 netns "$ns"
  fi
  ip addr replace "$net.1/24" dev "$hveth"
  ip link set "$hveth" up
  ip -n "$ns" addr replace "$addr/24" dev eth0
  ip -n "$ns" link set lo up
  ip -n "$ns" link set eth0 up   # a test may have left it down

  # the daemons: libvirtd and sshd share one network + mount namespace; a changed libvirtd.conf
  # restarts the daemon (its guests' QEMU processes live on and are found again)
  if ! cmp -s "$d/libvirtd.conf.new" "$d/etc/libvirtd.conf" && alive "$d/libvirtd.pid"; then
    kill -TERM "$(cat "$d/libvirtd.pid")"
    for _ in $(seq 1 100); do alive "$d/libvirtd.pid" || break; sleep 0.1; done
  fi
  mv "$d/libvirtd.conf.new" "$d/etc/libvirtd.conf"
  if ! alive "$d/libvirtd.pid"; then
    alive "$d/sshd.pid" && kill "$(cat "$d/sshd.pid")" && sleep 0.2
    rm -f "$d/libvirtd.pid" "$d/sshd.pid" "$d/run/libvirt-sock" "$d/run/libvirt-sock-ro" \
      "$d/run/libvirt-admin-sock"
    mounts=""
    for b in $BINDS; do mounts="$mounts mount --bind $d/${b%%:*} ${b##*:};"; done
    ip netns exec "$ns" unshare -m --propagation private bash -c "
      set -e; $mounts
      mkdir -p /var/lib/libvirt/qemu /var/log/libvirt/qemu
      LIBVIRT_LOG_OUTPUTS='3:file:/var/log/libvirt/libvirtd.log' \
        libvirtd -d --listen -f /etc/libvirt/libvirtd.conf --pid-file $d/libvirtd.pid
      for _ in \$(seq 1 100); do [ -S /run/libvirt/libvirt-sock ] && break; sleep 0.1; done
      /usr/sbin/sshd -f $d/sshd_config"
  elif ! alive "$d/sshd.pid"; then
    nsenter -t "$(cat "$d/libvirtd.pid")" -n -m /usr/sbin/sshd -f "$d/sshd_config"
  fi
  known="$known$addr $(cut -d' ' -f1,2 "$d/ssh/host_ed25519.pub")"$'\n'
  ssh_conf="$ssh_conf$addr "
  tls_uri=""
  [ "$tls" = 1 ] && tls_uri="qemu+tls://$addr/system"
  json="$json${json:+,}
  {\"name\": \"atp-$name\", \"netns\": \"$ns\", \"link\": \"eth0\", \"address\": \"$addr\",
   \"tcp_uri\": \"qemu+tcp://$addr/system\", \"ssh_uri\": \"qemu+ssh://root@$addr/system?no_tty=1\",
   \"tls_uri\": \"$tls_uri\",
   \"state_dir\": \"$d\"}"
done

printf '%s' "$known" > "$STATE/known_hosts"
cat > /etc/ssh/ssh_config.d/atp-rig.conf <<EOF
# written by rig/remote-hosts.sh: the rig's remote libvirt hosts (network namespaces)
Host ${ssh_conf% }
  User root
  IdentityFile $STATE/id_ed25519
  IdentitiesOnly yes
  UserKnownHostsFile $STATE/known_hosts
  StrictHostKeyChecking yes
  ConnectTimeout 10
  ServerAliveInterval 5
  ServerAliveCountMax 3
EOF
printf '[%s\n]\n' "$json" > "$STATE/hosts.json"

# both transports answer on both hosts
for entry in $HOSTS; do
  addr=${entry##*:}.2
  uris="qemu+tcp://$addr/system qemu+ssh://root@$addr/system?no_tty=1"
  [ "$tls" = 1 ] && uris="$uris qemu+tls://$addr/system"
  for uri in $uris; do
    ok=""
    for _ in $(seq 1 100); do
      timeout 20 virsh -c "$uri" version >/dev/null 2>&1 && { ok=1; break; }
      sleep 0.2
    done
    [ -n "$ok" ] || { echo "rig/remote-hosts: $uri does not answer (see $STATE)" >&2; exit 1; }
  done
done
transports="tcp + ssh"
[ "$tls" = 1 ] && transports="$transports + tls"
echo "rig: remote hosts $(for e in $HOSTS; do printf '%s ' "atp-${e%%:*}@${e##*:}.2"; done)($transports)"
