build/obj/sr_jsch_compat.o: src/sr_jsch_compat.c src/sr_jsch.h \
 src/sr_int.h include/tribsr.h
src/sr_jsch.h:
src/sr_int.h:
include/tribsr.h:
