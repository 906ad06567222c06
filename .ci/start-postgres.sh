# Sourced by .ci/run: start Debian's PostgreSQL cluster and export FASTGROUP_TEST_PG_URL.
ver="$(ls /usr/lib/postgresql | sort -n | tail -1)"
if ! pg_lsclusters -h | grep -q online; then
  if ! pg_lsclusters -h | grep -q .; then
    pg_createcluster "$ver" main >/dev/null
  fi
  pg_ctlcluster "$ver" main start
fi
for _ in $(seq 1 30); do
  pg_isready -q -h 127.0.0.1 && break
  sleep 1
done
su postgres -c "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='fastgroup'\"" | grep -q 1 \
  || su postgres -c "psql -qc \"CREATE ROLE fastgroup LOGIN SUPERUSER PASSWORD 'fastgroup'\""
su postgres -c "psql -qtAc \"SELECT 1 FROM pg_database WHERE datname='fastgroup_test'\"" | grep -q 1 \
  || su postgres -c "createdb -O fastgroup fastgroup_test"
export FASTGROUP_TEST_PG_URL="postgresql+psycopg://fastgroup:fastgroup@127.0.0.1:5432/fastgroup_test"
echo "PostgreSQL $ver up: $FASTGROUP_TEST_PG_URL"
