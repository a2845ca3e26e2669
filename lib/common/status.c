/*
 * status.c - status messages and the version string.
 */
#include "common.h"

const char *wn_version_string(void)
{
    return WN_VERSION_STRING;
}

const char *wn_strerror(int status)
{
    switch (status) {
#define WN__STATUS_CASE(name, value, text)                                     \
    case value:                                                                \
        return text;
        WN_STATUS_LIST(WN__STATUS_CASE)
#undef WN__STATUS_CASE
    }
    return "unknown status";
}
