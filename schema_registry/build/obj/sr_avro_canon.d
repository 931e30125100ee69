build/obj/sr_avro_canon.o: src/sr_avro_canon.c src/sr_avro.h src/sr_int.h \
 include/tribsr.h
src/sr_avro.h:
src/sr_int.h:
include/tribsr.h:
