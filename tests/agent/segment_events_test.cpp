// SegmentReader::read_events / release_events with event cursors out of order (found by tests/fuzz).
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>

#include "ingest/segment_reader.hpp"
#include "support/segment_image.hpp"
#include "support/temp_dir.hpp"

using namespace trainscope;

TEST(SegmentEvents, AReadCursorAheadOfTheWriteCursorIsNotStoredBack) {
    test::SegmentImage image;
    image.header().event_write.store(5);
    image.header().event_read.store(10);  // a corrupt or hostile producer
    test::TempDir dir("tsevents");
    image.write_file(dir.path() + "/seg");
    std::string why;
    bool not_ready = false;
    auto reader = agent::SegmentReader::open(dir.path(), "seg", &why, &not_ready);
    ASSERT_TRUE(reader) << why;
    std::vector<agent::EventRecord> events;
    std::uint64_t cursor = reader->event_read_pos();
    reader->read_events(cursor, events);
    reader->release_events(cursor);  // as the collector does once the events are stored
    EXPECT_TRUE(events.empty());
    // Left ahead (or wrapped), the producer would see its event ring full and drop every event.
    std::uint64_t read = 0, write = 0;
    {
        std::FILE* f = std::fopen((dir.path() + "/seg").c_str(), "rb");
        ASSERT_NE(f, nullptr);
        std::fseek(f, offsetof(layout::Header, event_read), SEEK_SET);
        ASSERT_EQ(std::fread(&read, 8, 1, f), 1u);
        std::fseek(f, offsetof(layout::Header, event_write), SEEK_SET);
        ASSERT_EQ(std::fread(&write, 8, 1, f), 1u);
        std::fclose(f);
    }
    EXPECT_LE(read, write);
}
