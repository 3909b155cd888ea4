# Example apps, built by `make` (not installed) and run by `make check`
# (tests/integration/example-*.sh). Each is a module like the bundled
# apps: examples/.libs/NAME.so, loaded with `module = ` that path.
noinst_LTLIBRARIES += examples/jsonapi.la
examples_jsonapi_la_SOURCES = examples/jsonapi.c
examples_jsonapi_la_CPPFLAGS = $(APP_CPPFLAGS) $(JANSSON_CFLAGS)
examples_jsonapi_la_CFLAGS = $(APP_CFLAGS)
# noinst modules need an -rpath to be built shared.
examples_jsonapi_la_LDFLAGS = $(APP_LDFLAGS) -rpath $(abs_builddir)/examples
examples_jsonapi_la_LIBADD = $(JANSSON_LIBS)

noinst_LTLIBRARIES += examples/relay.la
examples_relay_la_SOURCES = examples/relay.c
examples_relay_la_CPPFLAGS = $(APP_CPPFLAGS)
examples_relay_la_CFLAGS = $(APP_CFLAGS)
examples_relay_la_LDFLAGS = $(APP_LDFLAGS) -rpath $(abs_builddir)/examples

# The site the bundled configuration's static app serves: from the source
# tree as examples/site, installed under $(pkgdatadir)/site (conf/local.mk
# points the installed configuration there).
examplesitedir = $(pkgdatadir)/site
dist_examplesite_DATA = examples/site/index.html examples/site/style.css

# The sources an installed user builds from (vk(3), EXAMPLES): this JSON
# API and the single-file bundled apps, each built against the installed
# headers alone by tests/integration/vkd_app_api.sh.
exampledocdir = $(docdir)/examples
exampledoc_DATA = examples/jsonapi.c examples/relay.c src/apps/echo.c src/apps/http.c src/apps/chat.c
