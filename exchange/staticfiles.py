"""Static file storage: whitenoise's compressed, hashed manifest storage, with the
hashed names also written into the web app's ES module imports."""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class HashedStaticFilesStorage(CompressedManifestStaticFilesStorage):
    """Every file gets a content hash in its name and a far-future cache header.

    The web app is a set of ES modules importing each other by relative path;
    Django rewrites those ``import ... from "./x.js";`` statements to the hashed
    names only when asked to, so that a changed module also changes the name of
    every module that imports it and no browser mixes old and new files.
    """

    support_js_module_import_aggregation = True
