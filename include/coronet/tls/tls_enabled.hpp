// Included by every TLS header: says clearly, at compile time, that this coronet was built
// without TLS, instead of failing on missing OpenSSL headers or link errors.
#pragma once

#if !defined(CORONET_HAS_TLS)
#error \
    "coronet was built without TLS (CORONET_WITH_TLS=OFF or no OpenSSL 3); rebuild it with -DCORONET_WITH_TLS=ON and libssl-dev installed"
#endif
