# Installs the service files (unit, configuration, sysusers.d, tmpfiles.d).
# Run at install time, not at configure time: only then is the prefix known
# (`cmake --install --prefix`, `make install PREFIX=…`, and cpack, which
# installs with /usr), and the unit must name the binary where it lands.
# Expects KP_SOURCE_DIR and KP_BINARY_DIR (set by CMakeLists.txt).
#
# Layout: PREFIX/bin/kruispunt, PREFIX/lib/systemd/system/kruispunt.service,
# PREFIX/lib/{sysusers,tmpfiles}.d/kruispunt.conf (systemd reads all of
# these under /usr and /usr/local), and the configuration in SYSCONF/kruispunt/
# where SYSCONF is /etc for the prefixes /usr and /, PREFIX/etc otherwise
# (the GNU rule). The data directory is /var/lib/kruispunt for every prefix:
# it is the unit's StateDirectory=, which systemd puts under /var/lib.
set(prefix "${CMAKE_INSTALL_PREFIX}")
string(REGEX REPLACE "/+$" "" prefix "${prefix}")
if(prefix STREQUAL "/usr" OR prefix STREQUAL "")
  set(sysconf "/etc")
else()
  set(sysconf "${prefix}/etc")
endif()
set(KP_BINDIR "${prefix}/bin")
set(KP_CONFIG "${sysconf}/kruispunt/kruispunt.ini")

set(gen "${KP_BINARY_DIR}/packaging")
configure_file("${KP_SOURCE_DIR}/packaging/kruispunt.service.in"
               "${gen}/kruispunt.service" @ONLY)
configure_file("${KP_SOURCE_DIR}/packaging/kruispunt.tmpfiles.in"
               "${gen}/tmpfiles/kruispunt.conf" @ONLY)
configure_file("${KP_SOURCE_DIR}/packaging/kruispunt.ini.in"
               "${gen}/kruispunt.ini" @ONLY)
configure_file("${KP_SOURCE_DIR}/packaging/kruispunt.sysusers"
               "${gen}/sysusers/kruispunt.conf" COPYONLY)

set(readable OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
file(INSTALL "${gen}/kruispunt.service" DESTINATION "${prefix}/lib/systemd/system"
     PERMISSIONS ${readable})
file(INSTALL "${gen}/sysusers/kruispunt.conf" DESTINATION "${prefix}/lib/sysusers.d"
     PERMISSIONS ${readable})
file(INSTALL "${gen}/tmpfiles/kruispunt.conf" DESTINATION "${prefix}/lib/tmpfiles.d"
     PERMISSIONS ${readable})

# The configuration is the operator's once installed: a second
# `make install` keeps it (the package's conffile handling does the same).
# 0640: it may come to hold an SMTP password; the service's group reads it
# (the package's postinst sets the group, README for a source install).
if(EXISTS "$ENV{DESTDIR}${KP_CONFIG}")
  message(STATUS "Kept: $ENV{DESTDIR}${KP_CONFIG}")
else()
  file(INSTALL "${gen}/kruispunt.ini" DESTINATION "${sysconf}/kruispunt"
       PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)
endif()
