# Sourced by the setup scripts, .ci/run and tools/test-runs.sh: exports the one table, tools/test-engines.env, where
# the environment does not already set a variable (the environment wins over its lines). KEY=VALUE lines only.
while IFS='=' read -r key value; do
  [[ $key =~ ^[A-Z_][A-Z0-9_]*$ ]] || continue
  [ -n "${!key:-}" ] || export "$key=$value"
done < "$(dirname "${BASH_SOURCE[0]}")/test-engines.env"

# The engines' CLIs as the project calls them (tools/TestEnv.ps1's Invoke-EngineCli is the PowerShell twin): docker at
# the table's endpoint; podman as a local client with the project's own configuration and CONTAINER_HOST unset, so
# /etc/containers/containers.conf is never read for it, nor written.
docker_cli() { docker -H "$DYADPORTS_TEST_DOCKER" "$@"; }
podman_cli() { env -u CONTAINER_HOST CONTAINERS_CONF="$DYADPORTS_TEST_STATE/containers.conf" podman "$@"; }
