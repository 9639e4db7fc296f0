# The browser viewer, bundled to static assets (owned by web-viewer/).
.PHONY: viewer-build
viewer-build: deps
	@mkdir -p web-viewer/dist
