build/obj/sr_jsch_object.o: src/sr_jsch_object.c src/sr_jsch.h \
 src/sr_int.h include/tribsr.h
src/sr_jsch.h:
src/sr_int.h:
include/tribsr.h:
