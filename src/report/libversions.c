/*
 * Versions of the libraries the report stage alone links (libharu, cairo, libxlsxwriter), in one
 * file below every writer.
 */
#include <cairo.h>
#include <hpdf.h>
#include <xlsxwriter.h>

#include "report/report_impl.h"

const char *wf_report_hpdf_version(void) {
    return HPDF_VERSION_TEXT;
}

const char *wf_report_cairo_version(void) {
    return cairo_version_string();
}

const char *wf_report_lxw_version(void) {
    return LXW_VERSION;
}
