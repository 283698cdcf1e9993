# Sourced by the setup scripts (and .ci/run): exports the one table, tools/test-engines.env, where the environment
# does not already set a variable (the environment wins over its lines). KEY=VALUE lines only.
while IFS='=' read -r key value; do
  [[ $key =~ ^[A-Z_][A-Z0-9_]*$ ]] || continue
  [ -n "${!key:-}" ] || export "$key=$value"
done < "$(dirname "${BASH_SOURCE[0]}")/test-engines.env"
