fuzz_ciphertext.o: fuzz/fuzz_ciphertext.c src/lib/keys.h \
 src/transform/mask/mask_fernet.h src/transform/mask/mask_gcm.h \
 src/transform/mask/mask_tokenize.h
src/lib/keys.h:
src/transform/mask/mask_fernet.h:
src/transform/mask/mask_gcm.h:
src/transform/mask/mask_tokenize.h:
