#!/bin/sh
# Re-vendor the API documentation pages' front-end files (Swagger UI and ReDoc) from the npm registry at
# pinned versions, so /docs and /redoc work without internet. Run from the repository root; needs npm.
set -eu

SWAGGER_UI=5.36.0
REDOC=2.5.2

dest=src/callbot/api/static/vendor
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

(cd "$work" && npm pack --silent "swagger-ui-dist@$SWAGGER_UI" "redoc@$REDOC" >/dev/null)
mkdir -p "$work/swagger" "$work/redoc"
tar xzf "$work/swagger-ui-dist-$SWAGGER_UI.tgz" -C "$work/swagger"
tar xzf "$work/redoc-$REDOC.tgz" -C "$work/redoc"

rm -rf "$dest/swagger-ui" "$dest/redoc"
mkdir -p "$dest/swagger-ui" "$dest/redoc"
for f in swagger-ui-bundle.js swagger-ui-standalone-preset.js swagger-ui.css favicon-32x32.png LICENSE NOTICE swagger-ui-bundle.js.LICENSE.txt; do
    cp "$work/swagger/package/$f" "$dest/swagger-ui/$f"
done
# The bundle points at its source map, which is not shipped.
sed -i '/^\/\/# sourceMappingURL=/d' "$dest/swagger-ui/swagger-ui-bundle.js" "$dest/swagger-ui/swagger-ui-standalone-preset.js"
cp "$work/redoc/package/bundles/redoc.standalone.js" "$dest/redoc/redoc.standalone.js"
cp "$work/redoc/package/LICENSE" "$dest/redoc/LICENSE"
cp "$work/redoc/package/bundles/redoc.standalone.js.LICENSE.txt" "$dest/redoc/redoc.standalone.js.LICENSE.txt"
printf 'swagger-ui-dist %s\nredoc %s\n' "$SWAGGER_UI" "$REDOC" > "$dest/VERSIONS"
echo "vendored swagger-ui-dist $SWAGGER_UI and redoc $REDOC into $dest"
