# The browser viewer, bundled to static assets (owned by web-viewer/).
VIEWER_SOURCES := $(wildcard web-viewer/src/*.ts web-viewer/static/*) web-viewer/build.mjs
# The isomorphic gateway modules the bundle pulls in.
VIEWER_SHARED := $(addprefix gateway/src/,errors.ts media/frame-stamp.ts \
  $(addprefix signaling/,messages.ts message-types.ts parse.ts topics.ts typed-emitter.ts \
    viewer-call.ts viewer-client.ts))

.PHONY: viewer-build viewer-test viewer-e2e viewer-bench
viewer-build: deps web-viewer/dist/app.js

web-viewer/dist/app.js: $(VIEWER_SOURCES) $(VIEWER_SHARED)
	$(NODE) web-viewer/build.mjs

# Unit tests (pure logic) and the browser end-to-end tests.
viewer-test: viewer-build
	npx vitest run web-viewer/src

viewer-e2e: build
	npx vitest run web-viewer/test

# N=20 browser connects: time to first frame and glass-to-glass p50/p95.
viewer-bench: build
	$(NODE) web-viewer/bench/bench.js
