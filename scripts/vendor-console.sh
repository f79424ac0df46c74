#!/bin/sh
# Re-vendor the web console's front-end files from the npm registry, at pinned versions, with their
# licences. Nothing is loaded from a CDN at run time: the files are committed under static/vendor/.
set -eu
HTMX=2.0.9
ECHARTS=6.0.0
CODEMIRROR=5.65.21

root=$(cd "$(dirname "$0")/.." && pwd)
dest="$root/src/callbot/console/static/vendor"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cd "$work"
npm pack --silent "htmx.org@$HTMX" "echarts@$ECHARTS" "codemirror@$CODEMIRROR" >/dev/null
for pkg in htmx.org-$HTMX echarts-$ECHARTS codemirror-$CODEMIRROR; do
    mkdir "$pkg" && tar -xzf "$pkg.tgz" -C "$pkg" --strip-components=1
done

rm -rf "$dest" && mkdir -p "$dest/htmx" "$dest/echarts" "$dest/codemirror"
cp "htmx.org-$HTMX/dist/htmx.min.js" "htmx.org-$HTMX/LICENSE" "$dest/htmx/"
cp "echarts-$ECHARTS/dist/echarts.min.js" "echarts-$ECHARTS/LICENSE" "echarts-$ECHARTS/NOTICE" "$dest/echarts/"
cp "codemirror-$CODEMIRROR/lib/codemirror.js" "codemirror-$CODEMIRROR/lib/codemirror.css" \
    "codemirror-$CODEMIRROR/mode/yaml/yaml.js" "codemirror-$CODEMIRROR/LICENSE" "$dest/codemirror/"
printf 'htmx.org %s\necharts %s\ncodemirror %s\n' "$HTMX" "$ECHARTS" "$CODEMIRROR" >"$dest/VERSIONS"
echo "vendored into $dest"
