# The native addon (owned by native/): built by node-gyp against Node's headers.
.PHONY: native-build native-test-asan
native-build: deps
	cd native && npx node-gyp build --jobs=2 2>/dev/null || (cd native && npx node-gyp rebuild --jobs=2)

native-test-asan:
	@echo "native-test-asan: not yet wired"
