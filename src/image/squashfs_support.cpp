#include "image/squashfs_support.hpp"

#include <sqfs/error.h>

namespace ksx::image {

std::string sqfs_error_text(int code) {
    switch (code) {
    case SQFS_ERROR_ALLOC:
        return "out of memory";
    case SQFS_ERROR_IO:
        return "I/O error";
    case SQFS_ERROR_COMPRESSOR:
        return "compressor error";
    case SQFS_ERROR_INTERNAL:
        return "internal library error";
    case SQFS_ERROR_CORRUPTED:
        return "data corrupted";
    case SQFS_ERROR_UNSUPPORTED:
        return "unsupported feature";
    case SQFS_ERROR_OVERFLOW:
        return "numeric overflow";
    case SQFS_ERROR_OUT_OF_BOUNDS:
        return "location out of bounds";
    case SFQS_ERROR_SUPER_MAGIC:
        return "wrong magic number";
    case SFQS_ERROR_SUPER_VERSION:
        return "unsupported squashfs version";
    case SQFS_ERROR_SUPER_BLOCK_SIZE:
        return "invalid block size";
    case SQFS_ERROR_NOT_DIR:
        return "not a directory";
    case SQFS_ERROR_NO_ENTRY:
        return "no such file or directory";
    case SQFS_ERROR_LINK_LOOP:
        return "link loop";
    case SQFS_ERROR_NOT_FILE:
        return "not a regular file";
    case SQFS_ERROR_ARG_INVALID:
        return "invalid argument";
    case SQFS_ERROR_SEQUENCE:
        return "calls out of sequence";
    default:
        return "error " + std::to_string(code);
    }
}

} // namespace ksx::image
