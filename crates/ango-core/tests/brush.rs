//! Brush masks uploaded through the emulator come back as the files we encoded.

use ango_core::Client;
use ango_core::brush::BrushMask;
use ango_emulator::{Emulator, EmulatorConfig};

#[test]
fn brush_masks_and_volumes_are_stored_where_the_url_says() {
    let hub = Emulator::start(EmulatorConfig::default()).unwrap();
    let client = Client::builder(hub.api_key())
        .host(hub.url())
        .build()
        .unwrap();
    let project = client.raw().create_project("Brushes", None, None).unwrap();
    let project_id = project["data"]["project"]["_id"].as_str().unwrap();

    let mask = BrushMask::from_shape(&[2, 2], vec![0.0, 1.0, 1.0, 0.0], false).unwrap();
    let url = client.upload_brush_array(project_id, &mask, false).unwrap();
    assert!(url.ends_with(".png") && !url.contains('?'), "{url}");
    assert!(url.contains("/brushes/"), "{url}");
    // The emulator's stored files need the API key (or a signed URL).
    let stored = ureq::get(&url)
        .header("apikey", hub.api_key())
        .call()
        .unwrap()
        .body_mut()
        .read_to_vec()
        .unwrap();
    assert_eq!(stored, mask.encode(false).unwrap().0);

    let volume = BrushMask::from_shape(&[2, 2, 2], vec![1.0; 8], true).unwrap();
    let url = client
        .upload_brush_array(project_id, &volume, true)
        .unwrap();
    assert!(
        url.ends_with(".seg.nrrd") && url.contains("/medicalBrushes/"),
        "{url}"
    );
}
